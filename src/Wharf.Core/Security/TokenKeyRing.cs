using System.Globalization;
using System.Security.Cryptography;
using Wharf.Core.Metadata;

namespace Wharf.Core.Security;

/// <summary>
/// The keys of every signed token (<see cref="TokenCodec"/>), in the metadata store so that any node
/// verifies what another signed. Each purpose has a rotated family — <c>auth-tokens-1</c>, <c>-2</c>, …;
/// <c>page-tokens-N</c>; <c>download-tokens-N</c> — whose newest key signs and whose every present key
/// verifies, the key id in the token naming which. Rotation adds a key without ending live tokens;
/// revocation deletes one, and what it signed stops verifying. Nodes reload a family within a minute,
/// and at most every few seconds when a token names a key they have not seen.
/// </summary>
public sealed class TokenKeyRing(IMetadataStore store, TimeProvider time)
{
    private static readonly TimeSpan Reload = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ReloadOnUnknownKey = TimeSpan.FromSeconds(5);
    private readonly Family?[] families = new Family?[Enum.GetValues<TokenPurpose>().Length];

    private sealed record Family(uint Current, IReadOnlyDictionary<uint, byte[]> Keys, DateTimeOffset LoadedAt);

    /// <summary>Signs <paramref name="fields"/> for <paramref name="purpose"/> and <paramref name="binding"/> with the family's newest key.</summary>
    public async Task<string> SealAsync(TokenPurpose purpose, string binding, string[] fields, CancellationToken cancellationToken)
    {
        var family = await FamilyAsync(purpose, Reload, cancellationToken);
        return TokenCodec.Seal(purpose, family.Current, family.Keys[family.Current], binding, fields);
    }

    /// <summary>The fields of <paramref name="token"/>, or null when it is malformed, altered, issued for another purpose or binding, or its key is unknown or revoked.</summary>
    public async Task<string[]?> OpenAsync(TokenPurpose purpose, string token, string binding, CancellationToken cancellationToken)
    {
        if (!TokenCodec.TryReadKeyId(token, out var keyId))
        {
            return null;
        }

        var family = await FamilyAsync(purpose, Reload, cancellationToken);
        if (!family.Keys.ContainsKey(keyId))
        {
            // Perhaps rotated on another node since this one loaded the family.
            family = await FamilyAsync(purpose, ReloadOnUnknownKey, cancellationToken);
        }

        return TokenCodec.TryOpen(purpose, token, binding, id => family.Keys.GetValueOrDefault(id), out var fields) ? fields : null;
    }

    /// <summary>The store name of key <paramref name="keyId"/> of <paramref name="purpose"/>'s family, as <c>wharf admin</c> shows it.</summary>
    public static string KeyName(TokenPurpose purpose, uint keyId) => Prefix(purpose) + keyId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds the next key of <paramref name="purpose"/>'s family, which signs from then on; with <paramref name="revokePrevious"/>, deletes the others. Returns the new key's name.</summary>
    public static async Task<string> RotateAsync(IServerKeyStore keys, TokenPurpose purpose, bool revokePrevious, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await ListAsync(keys, purpose, cancellationToken);
        var name = KeyName(purpose, existing.Select(k => k.Id).DefaultIfEmpty(0u).Max() + 1);
        await keys.GetOrCreateAsync(name, RandomNumberGenerator.GetBytes(32), now, cancellationToken);
        if (revokePrevious)
        {
            foreach (var (id, _) in existing)
            {
                await keys.DeleteAsync(KeyName(purpose, id), cancellationToken);
            }
        }

        return name;
    }

    /// <summary>
    /// Deletes a key, so that what it signed stops verifying (on every node within a minute). Refused
    /// (false) for the newest key of its family, which signs: rotate first. Null when there is no such key.
    /// </summary>
    public static async Task<bool?> RevokeAsync(IServerKeyStore keys, TokenPurpose purpose, uint keyId, CancellationToken cancellationToken)
    {
        var family = await ListAsync(keys, purpose, cancellationToken);
        return family.All(k => k.Id != keyId) ? null
            : family[^1].Id == keyId ? false
            : await keys.DeleteAsync(KeyName(purpose, keyId), cancellationToken);
    }

    /// <summary>The ids of <paramref name="purpose"/>'s keys, oldest first; the last one signs.</summary>
    public static async Task<IReadOnlyList<(uint Id, byte[] Value)>> ListAsync(IServerKeyStore keys, TokenPurpose purpose, CancellationToken cancellationToken) =>
        [.. (await keys.ListAsync(Prefix(purpose), cancellationToken))
            .Select(k => (Id: IdOf(purpose, k.Name), k.Value))
            .Where(k => k.Id > 0)
            .OrderBy(k => k.Id)];

    /// <summary>Which family and key a name such as <c>page-tokens-3</c> denotes; false for any other name.</summary>
    public static bool TryParseKeyName(string name, out TokenPurpose purpose, out uint keyId)
    {
        foreach (var candidate in Enum.GetValues<TokenPurpose>())
        {
            if (IdOf(candidate, name) is > 0 and var id)
            {
                (purpose, keyId) = (candidate, id);
                return true;
            }
        }

        (purpose, keyId) = (default, 0);
        return false;
    }

    private static string Prefix(TokenPurpose purpose) => TokenCodec.NameOf(purpose) + "-tokens-";

    /// <summary>The key id in a family member's name, 0 for a name outside the family (only the canonical spelling counts, so one id is one key).</summary>
    private static uint IdOf(TokenPurpose purpose, string name) =>
        name.StartsWith(Prefix(purpose), StringComparison.Ordinal)
        && uint.TryParse(name.AsSpan(Prefix(purpose).Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        && KeyName(purpose, id) == name
            ? id
            : 0;

    private async Task<Family> FamilyAsync(TokenPurpose purpose, TimeSpan reloadAfter, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (Volatile.Read(ref families[(int)purpose]) is { } cached && now - cached.LoadedAt < reloadAfter && now >= cached.LoadedAt)
        {
            return cached;
        }

        var keys = (await ListAsync(store.Keys, purpose, cancellationToken)).ToDictionary(k => k.Id, k => k.Value);
        if (keys.Count == 0)
        {
            // The first use (or every key revoked): one key, created once however many nodes race for it.
            keys[1] = await store.Keys.GetOrCreateAsync(KeyName(purpose, 1), RandomNumberGenerator.GetBytes(32), now, cancellationToken);
        }

        var loaded = new Family(keys.Keys.Max(), keys, now);
        Volatile.Write(ref families[(int)purpose], loaded);
        return loaded;
    }
}
