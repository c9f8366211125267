using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Repositories;

/// <summary>
/// One page of a registry's repositories with each row's image count and size. <see cref="Next"/> is where the
/// next page starts (null: none). <see cref="Filtered"/>: the caller may not describe the registry's
/// repositories as a whole, so the page holds only those it may describe one by one.
/// </summary>
public sealed record RepositoryBrowsePage(IReadOnlyList<(Repository Repository, RepositoryStatistics Statistics)> Rows, RepositoryCursor? Next, bool Filtered);

/// <summary>A registry the caller's account has (or the default one), with its repository count when the caller may list them.</summary>
public sealed record RegistryOverview(RegistryKey Registry, long? Repositories);

/// <content>The web console's browsing: pages of repositories with counts, and the account's registries.</content>
public sealed partial class RepositoryService
{
    /// <summary>The most repositories one filtered page examines (authorising each), so a page stays bounded however few the caller may see.</summary>
    public const int MaxFilteredCandidates = 500;

    /// <summary>
    /// A page of <paramref name="registry"/>'s repositories, as <c>DescribeRepositories</c> authorises them:
    /// on the registry (<c>repository/*</c>) and, when that is denied, on each repository, so a caller allowed
    /// some repositories sees just those. A filtered page examines at most <see cref="MaxFilteredCandidates"/>
    /// repositories; it may then hold fewer rows than asked and still have a next page.
    /// </summary>
    public async Task<RepositoryBrowsePage> BrowseAsync(Caller caller, RegistryKey registry, RepositoryBrowse query, CancellationToken cancellationToken)
    {
        if (await AllowedAsync(caller, registry, RegistryArn(registry), cancellationToken))
        {
            var page = await store.Repositories.BrowseAsync(registry, query with { Limit = query.Limit + 1 }, cancellationToken);
            var rows = page.Take(query.Limit).ToList();
            return new RepositoryBrowsePage(await WithStatisticsAsync(rows, cancellationToken), page.Count > query.Limit ? RepositoryCursor.Of(rows[^1]) : null, false);
        }

        var allowed = new List<Repository>(query.Limit);
        var after = query.After;
        var examined = 0;
        var more = true;
        while (allowed.Count < query.Limit && examined < MaxFilteredCandidates && more)
        {
            var batchSize = Math.Min(100, MaxFilteredCandidates - examined);
            var batch = await store.Repositories.BrowseAsync(registry, query with { After = after, Limit = batchSize }, cancellationToken);
            more = batch.Count == batchSize;
            foreach (var repository in batch)
            {
                examined++;
                after = RepositoryCursor.Of(repository);
                if (await AllowedAsync(caller, registry, repository.Key.Arn, cancellationToken))
                {
                    allowed.Add(repository);
                    if (allowed.Count == query.Limit)
                    {
                        more = more || !ReferenceEquals(repository, batch[^1]);
                        break;
                    }
                }
            }
        }

        return new RepositoryBrowsePage(await WithStatisticsAsync(allowed, cancellationToken), more ? after : null, true);
    }

    /// <summary>
    /// The registries of <paramref name="account"/> worth showing: <paramref name="defaultRegion"/>'s and every
    /// region where it has repositories, each with its count when the caller may list that registry's repositories.
    /// </summary>
    public async Task<IReadOnlyList<RegistryOverview>> RegistriesAsync(Caller caller, AccountId account, string defaultRegion, CancellationToken cancellationToken)
    {
        var counts = (await store.Repositories.CountByRegionAsync(account, cancellationToken)).ToDictionary(c => c.Region, c => c.Repositories, StringComparer.Ordinal);
        counts.TryAdd(defaultRegion, 0);
        var result = new List<RegistryOverview>(counts.Count);
        foreach (var (region, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var registry = new RegistryKey(account, region);
            result.Add(new RegistryOverview(registry, await AllowedAsync(caller, registry, RegistryArn(registry), cancellationToken) ? count : null));
        }

        return result;
    }

    private async Task<IReadOnlyList<(Repository, RepositoryStatistics)>> WithStatisticsAsync(List<Repository> rows, CancellationToken cancellationToken)
    {
        var statistics = (await store.Repositories.GetStatisticsAsync([.. rows.Select(r => r.Id)], cancellationToken)).ToDictionary(s => s.RepositoryId);
        return [.. rows.Select(r => (r, statistics.TryGetValue(r.Id, out var s) ? s : new RepositoryStatistics(r.Id, 0, 0)))];
    }

    private async Task<bool> AllowedAsync(Caller caller, RegistryKey registry, string arn, CancellationToken cancellationToken)
    {
        try
        {
            await authorizer.AuthorizeAsync(caller, registry, EcrActions.DescribeRepositories, arn, cancellationToken);
            return true;
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.Denied)
        {
            return false;
        }
    }
}
