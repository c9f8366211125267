using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Metadata;
using Wharf.Core.Repositories;
using Wharf.Core.Security;

namespace Wharf.Core.Images;

/// <summary>One page of a listing; <see cref="Last"/> is the cursor for the next page, or null on the last.</summary>
public sealed record Page(IReadOnlyList<string> Items, string? Last);

/// <summary>Tag lists and the catalog, in ordinal order, paged with <c>n</c> and <c>last</c>.</summary>
public sealed class ListingService(IMetadataStore store, RepositoryResolver repositories)
{
    /// <summary>Tags of a repository after <paramref name="last"/>, at most <paramref name="n"/> (capped at <see cref="DataPlaneSettings.MaxPageSize"/>).</summary>
    public async Task<Page> ListTagsAsync(Caller caller, RepositoryKey key, int? n, string? last, CancellationToken cancellationToken)
    {
        var limit = Limit(n);
        var repository = await repositories.GetAsync(caller, key, EcrActions.ListImages, cancellationToken);
        if (limit == 0)
        {
            return new Page([], null);
        }

        var tags = await store.Images.ListTagsAsync(repository.Id, last, limit + 1, cancellationToken);
        return ToPage(tags, limit);
    }

    /// <summary>Repository names of a registry after <paramref name="last"/>, at most <paramref name="n"/>.</summary>
    public async Task<Page> ListRepositoriesAsync(Caller caller, RegistryKey registry, int? n, string? last, CancellationToken cancellationToken)
    {
        var limit = Limit(n);
        await repositories.AuthorizeAsync(caller, registry, EcrActions.DescribeRepositories, registry.RepositoriesArn, cancellationToken);
        if (limit == 0)
        {
            return new Page([], null);
        }

        var rows = await store.Repositories.ListAsync(registry, last, limit + 1, cancellationToken);
        return ToPage(rows.Select(r => r.Key.Name.Value).ToList(), limit);
    }

    private static int Limit(int? n) => n switch
    {
        null => DataPlaneSettings.MaxPageSize,
        < 0 => throw new WharfException(WharfErrorCode.PaginationInvalid, $"n must be a non-negative integer, not {n}"),
        _ => Math.Min(n.Value, DataPlaneSettings.MaxPageSize),
    };

    private static Page ToPage(IReadOnlyList<string> items, int limit) =>
        items.Count > limit ? new Page(items.Take(limit).ToList(), items[limit - 1]) : new Page(items, null);
}
