using Wharf.Core.Events;
using Wharf.Core.Lifecycle;
using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>A repository's lifecycle policy and when the job last evaluated it.</summary>
public sealed record LifecyclePolicyRecord(string Text, DateTimeOffset? LastEvaluatedAt);

/// <summary>A repository that has a lifecycle policy.</summary>
public sealed record LifecycleTarget(long RepositoryId, RepositoryKey Key, string Policy);

/// <summary>A lifecycle preview: the policy it ran, <c>IN_PROGRESS</c>/<c>COMPLETE</c>/<c>FAILED</c>, and its results (JSON, when complete).</summary>
public sealed record LifecyclePreviewRecord(string Policy, string Status, string? ResultsJson, DateTimeOffset StartedAt);

/// <summary>The orders <see cref="ILifecycleStore.ListImagesAsync"/> reads a repository's images in.</summary>
public enum LifecycleImageOrder
{
    /// <summary><see cref="LifecycleEvaluator.YoungestFirst"/>: by last restore, else push, time, youngest first; ties by digest, descending.</summary>
    YoungestFirst,

    /// <summary>By push time, oldest first; ties by digest: the order a run acts in (ECR expires older images first).</summary>
    OldestPushedFirst,
}

/// <summary>How a planned lifecycle action (or a storage-class change) went.</summary>
public enum LifecycleApplyResult
{
    Applied,
    NotFound,

    /// <summary>The image changed since the plan (tags, storage class or push): nothing was done.</summary>
    Changed,

    /// <summary>An index in the repository lists it.</summary>
    ReferencedByIndex,
}

/// <summary>
/// Lifecycle policies, previews, the images the evaluator sees, and the actions it plans — each applied
/// only if the image is still as planned, with its event in the same transaction.
/// </summary>
public interface ILifecycleStore
{
    /// <summary>Sets (or, with null, removes) the repository's policy. False when the repository is absent.</summary>
    Task<bool> SetPolicyAsync(long repositoryId, string? policy, CancellationToken cancellationToken);

    Task<LifecyclePolicyRecord?> GetPolicyAsync(long repositoryId, CancellationToken cancellationToken);

    /// <summary>Every repository with a policy, by id.</summary>
    Task<IReadOnlyList<LifecycleTarget>> ListTargetsAsync(CancellationToken cancellationToken);

    Task MarkEvaluatedAsync(long repositoryId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the repository's images as the evaluator sees them (tags in name order), at most
    /// <paramref name="limit"/>, in <paramref name="order"/>, after the image <paramref name="after"/>
    /// (the last of the previous page; null for the first). Each page is one index range.
    /// </summary>
    Task<IReadOnlyList<LifecycleImage>> ListImagesAsync(long repositoryId, LifecycleImageOrder order, LifecycleImage? after, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the image (tags and references go with it) if it is still as <paramref name="planned"/>, recording <paramref name="evt"/>.</summary>
    Task<LifecycleApplyResult> ExpireAsync(long repositoryId, LifecycleImage planned, OutboxEvent evt, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the image to <paramref name="target"/> (archiving sets its archive time, restoring its
    /// activation time), recording <paramref name="evt"/>; with <paramref name="planned"/>, only if the
    /// image is still as planned. Applied also when it already is in <paramref name="target"/>.
    /// </summary>
    Task<LifecycleApplyResult> SetStorageClassAsync(long repositoryId, Digest digest, StorageClass target, LifecycleImage? planned, OutboxEvent evt, CancellationToken cancellationToken);

    /// <summary>Starts a preview unless one is in progress (false then); one started before <paramref name="abandonedBefore"/> counts as abandoned.</summary>
    Task<bool> TryStartPreviewAsync(long repositoryId, string policy, DateTimeOffset now, DateTimeOffset abandonedBefore, CancellationToken cancellationToken);

    Task CompletePreviewAsync(long repositoryId, string status, string? resultsJson, CancellationToken cancellationToken);

    Task<LifecyclePreviewRecord?> GetPreviewAsync(long repositoryId, CancellationToken cancellationToken);
}

/// <summary>What the stores compare when they apply a lifecycle plan.</summary>
public static class LifecycleImages
{
    /// <summary>True when <paramref name="current"/> is the image <paramref name="planned"/> saw: same tags, push time and storage class.</summary>
    public static bool Unchanged(LifecycleImage planned, LifecycleImage current) =>
        planned.PushedAt.ToUnixTimeMilliseconds() == current.PushedAt.ToUnixTimeMilliseconds()
        && planned.StorageClass == current.StorageClass
        && planned.Tags.Order(StringComparer.Ordinal).SequenceEqual(current.Tags.Order(StringComparer.Ordinal), StringComparer.Ordinal);
}
