using Wharf.Core.Primitives;

namespace Wharf.Core.Kms;

/// <summary>
/// A KMS key as stored: where it lives, its state and key policy, rotation, and (while pending deletion) when it is
/// deleted. Its material lives in <see cref="KmsMaterial"/> versions; <see cref="CurrentVersion"/> encrypts.
/// </summary>
public sealed record KmsKeyRecord(
    string Arn,
    string KeyId,
    AccountId Account,
    string Region,
    string? Description,
    KmsKeyState State,
    bool AwsManaged,
    string Policy,
    bool RotationEnabled,
    int RotationPeriodDays,
    int CurrentVersion,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeletionDate,
    IReadOnlyList<Metadata.ResourceTag> Tags)
{
    public KmsKeyInfo Info => new(Arn, KeyId, Account, Region, State, AwsManaged);
}

/// <summary>
/// One version of a key's 256-bit material, sealed with the master key (bound to the key's ARN and the version).
/// Never the material itself in <see cref="ToString"/>.
/// </summary>
public sealed record KmsMaterial(int Version, byte[] SealedMaterial, DateTimeOffset CreatedAt, bool OnDemand)
{
    public override string ToString() => $"material version {Version}";
}

/// <summary>An alias (<c>alias/name</c>) of a key in one account and region.</summary>
public sealed record KmsAlias(AccountId Account, string Region, string Name, string KeyArn, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public string Arn => $"arn:aws:kms:{Region}:{Account}:{Name}";
}

/// <summary>
/// A grant: the grantee principal may perform <see cref="Operations"/> with the key (under the encryption context
/// constraints, if any) until the grant is retired or revoked. <see cref="TokenHash"/> is the SHA-256 of its grant token.
/// </summary>
public sealed record KmsGrant(
    string GrantId,
    string KeyArn,
    string? Name,
    string GranteePrincipal,
    string? RetiringPrincipal,
    string IssuingAccount,
    IReadOnlyList<string> Operations,
    IReadOnlyDictionary<string, string>? ContextSubset,
    IReadOnlyDictionary<string, string>? ContextEquals,
    string TokenHash,
    DateTimeOffset CreatedAt);

/// <summary>
/// The keys, material versions, aliases and grants of the KMS-compatible key service (migration 23). Absence is
/// null/false; the material of a deleted key is gone with its row.
/// </summary>
public interface IKmsStore
{
    /// <summary>Creates the key with its first material version, and the alias when one is given, in one transaction; false when the alias exists.</summary>
    Task<bool> CreateKeyAsync(KmsKeyRecord key, KmsMaterial material, KmsAlias? alias, CancellationToken cancellationToken);

    Task<KmsKeyRecord?> GetKeyAsync(string arn, CancellationToken cancellationToken);

    /// <summary>The account's keys in the region by key id (ordinal), those after <paramref name="afterKeyId"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<KmsKeyRecord>> ListKeysAsync(AccountId account, string region, string? afterKeyId, int limit, CancellationToken cancellationToken);

    /// <summary>Writes the key's mutable fields (description, state, policy, rotation, deletion date, tags). False when the key is gone.</summary>
    Task<bool> UpdateKeyAsync(KmsKeyRecord key, CancellationToken cancellationToken);

    /// <summary>Adds a material version and makes it the key's current one (rotation). False when the key is gone.</summary>
    Task<bool> RotateAsync(string arn, KmsMaterial material, CancellationToken cancellationToken);

    /// <summary>The key's material versions, oldest first.</summary>
    Task<IReadOnlyList<KmsMaterial>> ListMaterialsAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Keys whose deletion date is at or before <paramref name="now"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<KmsKeyRecord>> ListDueForDeletionAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Keys with automatic rotation enabled whose current material is older than their rotation period at <paramref name="now"/>.</summary>
    Task<IReadOnlyList<KmsKeyRecord>> ListDueForRotationAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the key with its material, aliases and grants, only while it is still pending deletion. False otherwise.</summary>
    Task<bool> DeleteKeyAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Creates the alias; false when the name is taken in its account and region.</summary>
    Task<bool> CreateAliasAsync(KmsAlias alias, CancellationToken cancellationToken);

    Task<KmsAlias?> GetAliasAsync(AccountId account, string region, string name, CancellationToken cancellationToken);

    /// <summary>The account's aliases in the region by name (of one key when <paramref name="keyArn"/> is given), those after <paramref name="afterName"/>.</summary>
    Task<IReadOnlyList<KmsAlias>> ListAliasesAsync(AccountId account, string region, string? keyArn, string? afterName, int limit, CancellationToken cancellationToken);

    /// <summary>Points the alias at another key. False when the alias is gone.</summary>
    Task<bool> UpdateAliasAsync(KmsAlias alias, CancellationToken cancellationToken);

    Task<bool> DeleteAliasAsync(AccountId account, string region, string name, CancellationToken cancellationToken);

    Task CreateGrantAsync(KmsGrant grant, CancellationToken cancellationToken);

    /// <summary>The key's grants, oldest first.</summary>
    Task<IReadOnlyList<KmsGrant>> ListGrantsAsync(string keyArn, CancellationToken cancellationToken);

    /// <summary>The grant whose token hashes to <paramref name="tokenHash"/>, or null.</summary>
    Task<KmsGrant?> GetGrantByTokenAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Removes the grant (retired or revoked). False when absent.</summary>
    Task<bool> DeleteGrantAsync(string keyArn, string grantId, CancellationToken cancellationToken);
}
