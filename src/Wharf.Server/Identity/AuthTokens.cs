using System.Globalization;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>
/// What an authorisation token says: who (by ARN and by IAM's unique id, which a re-created namesake
/// does not share), through which access key, for which account and region, until when.
/// </summary>
internal sealed record AuthToken(string PrincipalArn, AccountId Account, string Region, DateTimeOffset ExpiresAt, string PrincipalId, string AccessKeyId);

/// <summary>Outcome of reading a token.</summary>
internal enum AuthTokenStatus
{
    Valid,
    Invalid,
    Expired,
}

/// <summary>
/// <c>GetAuthorizationToken</c>'s passwords (DESIGN.md "Identity"): self-contained — principal, account,
/// region and expiry — and signed with the <see cref="TokenPurpose.Auth"/> key family of
/// <see cref="TokenKeyRing"/>, so any node verifies them and no token is stored. Valid 12 hours, as
/// ECR's. <c>wharf admin rotate-token-key</c> changes the signing key without invalidating live tokens;
/// revoking a key invalidates what it signed.
/// </summary>
internal sealed class AuthTokens(TokenKeyRing keys, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    /// <summary>
    /// A token for <paramref name="caller"/> valid 12 hours, or until the end of its role session when
    /// sooner; bound to the caller's unique id and access key (checked on use by <see cref="TokenRequestIdentity"/>).
    /// </summary>
    public async Task<(string Password, DateTimeOffset ExpiresAt)> IssueAsync(Caller caller, string region, CancellationToken cancellationToken)
    {
        var end = time.GetUtcNow() + Lifetime;
        var notAfter = caller.CredentialsExpireAt;
        var expires = DateTimeOffset.FromUnixTimeSeconds((notAfter < end ? notAfter.Value : end).ToUnixTimeSeconds());
        string[] fields = [
            caller.PrincipalArn,
            caller.Account.Value,
            region,
            expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            caller.UserId ?? string.Empty,
            caller.AccessKeyId ?? string.Empty];
        return (await keys.SealAsync(TokenPurpose.Auth, string.Empty, fields, cancellationToken), expires);
    }

    public async Task<(AuthTokenStatus Status, AuthToken? Token)> ReadAsync(string password, CancellationToken cancellationToken)
    {
        if (await keys.OpenAsync(TokenPurpose.Auth, password, string.Empty, cancellationToken) is not [var arn, var accountText, var region, var expiresText, var principalId, var accessKeyId]
            || !AccountId.TryParse(accountText, out var account)
            || !long.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix))
        {
            return (AuthTokenStatus.Invalid, null);
        }

        var token = new AuthToken(arn, account, region, DateTimeOffset.FromUnixTimeSeconds(expiresUnix), principalId, accessKeyId);
        return (time.GetUtcNow() >= token.ExpiresAt ? AuthTokenStatus.Expired : AuthTokenStatus.Valid, token);
    }
}
