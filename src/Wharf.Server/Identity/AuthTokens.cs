using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Primitives;
using Wharf.Core.Metadata;
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
/// region and expiry — and MAC'd with a server-wide key from the metadata store, so any node verifies
/// them and no token is stored. Valid 12 hours, as ECR's. The keys are a rotated family
/// (<c>auth-tokens-1</c>, <c>-2</c>, …): the newest signs, every one still present verifies, and the
/// key's name travels in the token — so <c>wharf admin rotate-token-key</c> changes the signing key
/// without invalidating live tokens, and <c>--revoke-previous</c> invalidates them on purpose. Nodes
/// reload the family within a minute.
/// </summary>
internal sealed class AuthTokens(IMetadataStore store, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    public const string KeyPrefix = "auth-tokens-";
    private static readonly TimeSpan Reload = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ReloadOnUnknownKey = TimeSpan.FromSeconds(5);
    private KeyRing? ring;

    private sealed record KeyRing(string Current, IReadOnlyDictionary<string, byte[]> Keys, DateTimeOffset LoadedAt);

    /// <summary>
    /// A token for <paramref name="caller"/> valid 12 hours, or until the end of its role session when
    /// sooner; bound to the caller's unique id and access key (checked on use by <see cref="TokenRequestIdentity"/>).
    /// </summary>
    public async Task<(string Password, DateTimeOffset ExpiresAt)> IssueAsync(Caller caller, string region, CancellationToken cancellationToken)
    {
        var end = time.GetUtcNow() + Lifetime;
        var notAfter = caller.CredentialsExpireAt;
        var expires = DateTimeOffset.FromUnixTimeSeconds((notAfter < end ? notAfter.Value : end).ToUnixTimeSeconds());
        var keys = await RingAsync(Reload, cancellationToken);
        var payload = Encoding.UTF8.GetBytes(string.Join(
            '\n',
            keys.Current,
            caller.PrincipalArn,
            caller.Account.Value,
            region,
            expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            caller.UserId ?? string.Empty,
            caller.AccessKeyId ?? string.Empty));
        var mac = HMACSHA256.HashData(keys.Keys[keys.Current], payload);
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
        // Tokens of the earlier 5-field form named the principal by ARN alone; they no longer authenticate.
        if (parts.Length != 7 || Generation(parts[0]) is null)
        {
            return (AuthTokenStatus.Invalid, null);
        }

        // A key this node has not seen yet (rotated on another node) is looked for, at most every few seconds.
        var keys = await RingAsync(Reload, cancellationToken);
        if (!keys.Keys.ContainsKey(parts[0]))
        {
            keys = await RingAsync(ReloadOnUnknownKey, cancellationToken);
        }

        if (!keys.Keys.TryGetValue(parts[0], out var key)
            || !CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(key, payload))
            || !AccountId.TryParse(parts[2], out var account)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix))
        {
            return (AuthTokenStatus.Invalid, null);
        }

        var token = new AuthToken(parts[1], account, parts[3], DateTimeOffset.FromUnixTimeSeconds(expiresUnix), parts[5], parts[6]);
        return (time.GetUtcNow() >= token.ExpiresAt ? AuthTokenStatus.Expired : AuthTokenStatus.Valid, token);
    }

    /// <summary>Adds the next signing key; with <paramref name="revokePrevious"/>, deletes the others (their tokens stop working). Returns the new key's name.</summary>
    public static async Task<string> RotateAsync(IMetadataStore store, bool revokePrevious, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await store.Keys.ListAsync(KeyPrefix, cancellationToken);
        var name = KeyPrefix + (existing.Select(k => Generation(k.Name) ?? 0).DefaultIfEmpty(0).Max() + 1).ToString(CultureInfo.InvariantCulture);
        await store.Keys.GetOrCreateAsync(name, RandomNumberGenerator.GetBytes(32), now, cancellationToken);
        if (revokePrevious)
        {
            foreach (var (old, _) in existing)
            {
                await store.Keys.DeleteAsync(old, cancellationToken);
            }
        }

        return name;
    }

    private static int? Generation(string name) =>
        name.StartsWith(KeyPrefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(KeyPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    private async Task<KeyRing> RingAsync(TimeSpan reloadAfter, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (Volatile.Read(ref ring) is { } cached && now - cached.LoadedAt < reloadAfter && now >= cached.LoadedAt)
        {
            return cached;
        }

        var keys = (await store.Keys.ListAsync(KeyPrefix, cancellationToken))
            .Where(k => Generation(k.Name) is not null)
            .ToDictionary(k => k.Name, k => k.Value, StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            keys[KeyPrefix + "1"] = await store.Keys.GetOrCreateAsync(KeyPrefix + "1", RandomNumberGenerator.GetBytes(32), now, cancellationToken);
        }

        var loaded = new KeyRing(keys.Keys.MaxBy(k => Generation(k))!, keys, now);
        Volatile.Write(ref ring, loaded);
        return loaded;
    }
}
