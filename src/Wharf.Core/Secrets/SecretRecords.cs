using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Secrets;

/// <summary>
/// A secret as stored: its identity (registry, name, ARN with the random suffix), what describes it, and its
/// dates. <see cref="DeletionDate"/> is set while the secret is scheduled for deletion; its values live in
/// <see cref="SecretVersion"/>s.
/// </summary>
public sealed record SecretRecord(
    long Id,
    RegistryKey Registry,
    string Name,
    string Arn,
    string? Description,
    string? KmsKeyId,
    IReadOnlyList<ResourceTag> Tags,
    DateTimeOffset CreatedAt,
    DateTimeOffset ChangedAt,
    DateTimeOffset? AccessedAt,
    DateTimeOffset? DeletedAt,
    DateTimeOffset? DeletionDate)
{
    /// <summary>True while the secret waits out its recovery window.</summary>
    public bool IsScheduledForDeletion => DeletionDate is not null;
}

/// <summary>
/// One version of a secret: its id, the value sealed with the master key (bound to the secret's ARN and the
/// version id), whether the value is <c>SecretBinary</c> rather than <c>SecretString</c>, and its staging labels.
/// </summary>
public sealed record SecretVersion(string VersionId, byte[] SealedValue, bool IsBinary, IReadOnlyList<string> Stages, DateTimeOffset CreatedAt)
{
    /// <summary>Never the value, not even sealed.</summary>
    public override string ToString() => $"{VersionId} [{string.Join(", ", Stages)}]";
}

/// <summary>
/// What a change of a secret writes, decided inside the store's transaction from the secret as it is:
/// the secret's new row (null: unchanged), its whole new version set (null: unchanged), and what the caller gets back.
/// </summary>
public sealed record SecretChange<T>(SecretRecord? Secret, IReadOnlyList<SecretVersion>? Versions, T Result);

/// <summary>
/// The secrets of the Secrets Manager-compatible API. Absence is null/false; a change runs while the
/// secret's row is held, so concurrent writers of one secret apply one after the other.
/// </summary>
public interface ISecretStore
{
    /// <summary>Creates the secret with its first version (when one is given); false when the registry has a secret of that name.</summary>
    Task<bool> CreateAsync(SecretRecord secret, SecretVersion? version, CancellationToken cancellationToken);

    /// <summary>The secret of that name in the registry (scheduled for deletion or not), or null.</summary>
    Task<SecretRecord?> GetAsync(RegistryKey registry, string name, CancellationToken cancellationToken);

    /// <summary>The secret whose full ARN this is, or null.</summary>
    Task<SecretRecord?> GetByArnAsync(string arn, CancellationToken cancellationToken);

    /// <summary>The registry's secrets ordered by name (ordinal), those after <paramref name="afterName"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SecretRecord>> ListAsync(RegistryKey registry, string? afterName, int limit, CancellationToken cancellationToken);

    /// <summary>The secret's versions, oldest first.</summary>
    Task<IReadOnlyList<SecretVersion>> ListVersionsAsync(long secretId, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the secret and its versions while holding its row, and writes what <paramref name="change"/>
    /// makes of them (a version left out of a new set is removed), in one transaction. Null when the secret is gone.
    /// </summary>
    Task<SecretChange<T>?> ChangeAsync<T>(long secretId, Func<SecretRecord, IReadOnlyList<SecretVersion>, SecretChange<T>> change, CancellationToken cancellationToken);

    /// <summary>Records a read of the secret's value (the date only, as Secrets Manager keeps it).</summary>
    Task RecordAccessAsync(long secretId, DateTimeOffset day, CancellationToken cancellationToken);

    /// <summary>Removes the secret with its versions. False when absent.</summary>
    Task<bool> DeleteAsync(long secretId, CancellationToken cancellationToken);
}
