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
/// matches (longest prefix, then <c>ROOT</c>), else with ECR's defaults (mutable tags, AES256, no policies,
/// no tags). Everything the template carries is written with the repository in one transaction, and only
/// then: templates never touch repositories that exist. Callers authorise first; this only creates. Safe
/// under concurrency: a repository created meanwhile is returned as it is. A template's KMS encryption is resolved and
/// checked as <c>CreateRepository</c>'s is (<see cref="RepositoryEncryption.ResolveAsync"/>; the registry creates these
/// itself, as ECR does with its service role, so the key's state and region are checked, not a caller's permissions).
/// </summary>
public sealed class RepositoryCreator(IMetadataStore store, TimeProvider time, RepositoryEncryption? encryption = null)
{
    /// <summary>The repository, created for <paramref name="purpose"/> when missing.</summary>
    public async Task<Repository> GetOrCreateAsync(RepositoryKey key, CreationPurpose purpose, CancellationToken cancellationToken) =>
        await store.Repositories.GetAsync(key, cancellationToken)
        ?? await CreateAsync(key, await FindTemplateAsync(key, purpose, cancellationToken), cancellationToken);

    /// <summary>The registry's template a repository named by <paramref name="key"/> would be created with for <paramref name="purpose"/>, or null.</summary>
    public async Task<CreationTemplate?> FindTemplateAsync(RepositoryKey key, CreationPurpose purpose, CancellationToken cancellationToken) =>
        (await CreationTemplates.LoadAsync(store.Repositories, key.Registry, cancellationToken)).For(key.Name.Value, purpose);

    /// <summary>Creates the repository through <paramref name="template"/> (null: ECR's defaults), or returns the one that exists.</summary>
    public async Task<Repository> CreateAsync(RepositoryKey key, CreationTemplate? template, CancellationToken cancellationToken)
    {
        var creation = template?.ToCreation() ?? new RepositoryCreation(RepositorySettings.Default, []);
        if (encryption is not null && RepositoryEncryption.IsKms(creation.Settings))
        {
            if (await store.Repositories.GetAsync(key, cancellationToken) is { } existing)
            {
                return existing;
            }

            creation = creation with { Settings = await encryption.ResolveAsync(null, key, creation.Settings, cancellationToken) };
        }

        for (var attempt = 0; ; attempt++)
        {
            if (await store.Repositories.CreateAsync(key, creation, time.GetUtcNow(), cancellationToken) is { } created)
            {
                return created;
            }

            // Lost a race: the other creator's repository stands as it was made. Created and deleted again
            // in between (rare): try again, a few times.
            if (await store.Repositories.GetAsync(key, cancellationToken) is { } existing)
            {
                return existing;
            }

            if (attempt == 2)
            {
                throw new InvalidOperationException($"Repository {key} kept being deleted while it was created.");
            }
        }
    }
}
