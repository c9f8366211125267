using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Primitives;
using Wharf.Server.ControlPlane;

namespace Wharf.Server.Identity;

/// <summary>What an authorisation token says: who, for which account and region, until when.</summary>
internal sealed record AuthToken(string PrincipalArn, AccountId Account, string Region, DateTimeOffset ExpiresAt);

/// <summary>Outcome of reading a token.</summary>
internal enum AuthTokenStatus
{
    Valid,
    Invalid,
    Expired,
}

/// <summary>
/// <c>GetAuthorizationToken</c>'s passwords (DESIGN.md "Identity"): self-contained — principal, account,
/// region and expiry — and MAC'd with a server-wide key from the metadata store, so any node verifies
/// them and no token is stored. Valid 12 hours, as ECR's. The key's name travels in the token, so a
/// new key can be introduced without invalidating live tokens.
/// </summary>
internal sealed class AuthTokens(ServerKeys keys, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    private const string KeyName = "auth-tokens-1";

    /// <summary>A token valid 12 hours, or until <paramref name="notAfter"/> (the end of a role session) when sooner.</summary>
    public async Task<(string Password, DateTimeOffset ExpiresAt)> IssueAsync(string principalArn, AccountId account, string region, DateTimeOffset? notAfter, CancellationToken cancellationToken)
    {
        var end = time.GetUtcNow() + Lifetime;
        var expires = DateTimeOffset.FromUnixTimeSeconds((notAfter < end ? notAfter.Value : end).ToUnixTimeSeconds());
        var payload = Encoding.UTF8.GetBytes(string.Join('\n', KeyName, principalArn, account.Value, region, expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        var mac = HMACSHA256.HashData(await keys.GetAsync(KeyName, cancellationToken), payload);
        return (Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(mac), expires);
    }

    public async Task<(AuthTokenStatus Status, AuthToken? Token)> ReadAsync(string password, CancellationToken cancellationToken)
    {
        var dot = password.IndexOf('.', StringComparison.Ordinal);
        byte[] payload;
        byte[] mac;
        try
        {
            if (dot <= 0)
            {
                return (AuthTokenStatus.Invalid, null);
            }

            payload = Base64Url.DecodeFromChars(password.AsSpan(0, dot));
            mac = Base64Url.DecodeFromChars(password.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return (AuthTokenStatus.Invalid, null);
        }

        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts.Length != 5 || parts[0] != KeyName)
        {
            return (AuthTokenStatus.Invalid, null);
        }

        var expected = HMACSHA256.HashData(await keys.GetAsync(parts[0], cancellationToken), payload);
        if (!CryptographicOperations.FixedTimeEquals(mac, expected)
            || !AccountId.TryParse(parts[2], out var account)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix))
        {
            return (AuthTokenStatus.Invalid, null);
        }

        var token = new AuthToken(parts[1], account, parts[3], DateTimeOffset.FromUnixTimeSeconds(expiresUnix));
        return (time.GetUtcNow() >= token.ExpiresAt ? AuthTokenStatus.Expired : AuthTokenStatus.Valid, token);
    }
}
