using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>The orders a registry's repositories can be browsed in (each one a keyset over an index).</summary>
public enum RepositorySort
{
    Name,
    Created,
}

/// <summary>Where a page of repositories resumes: the last repository of the page before (its name for <see cref="RepositorySort.Name"/>, its creation time and id for <see cref="RepositorySort.Created"/>).</summary>
public sealed record RepositoryCursor(string Name, DateTimeOffset CreatedAt, long Id)
{
    public static RepositoryCursor Of(Repository repository) => new(repository.Key.Name.Value, repository.CreatedAt, repository.Id);
}

/// <summary>
/// A page of a registry's repositories: those whose name contains <paramref name="NameContains"/> (null: all),
/// in <paramref name="Sort"/> order, strictly after <paramref name="After"/>, at most <paramref name="Limit"/>.
/// </summary>
public sealed record RepositoryBrowse(string? NameContains, RepositorySort Sort, bool Descending, RepositoryCursor? After, int Limit);

/// <summary>A repository's images (manifests of every status, as <c>DescribeImages</c> counts them) and their size (images no index lists, so an index's platforms count once).</summary>
public sealed record RepositoryStatistics(long RepositoryId, long Images, long Size);

/// <summary>How many repositories an account has in one region.</summary>
public sealed record RegionRepositories(string Region, long Repositories);

/// <summary>Where a page of images (newest pushed first) resumes: the last image of the page before.</summary>
public sealed record ImageCursor(DateTimeOffset PushedAt, Digest Digest);

/// <summary>
/// A page of a repository's images, newest pushed first: of <paramref name="Tagged"/> tag status, with a tag
/// starting with <paramref name="TagPrefix"/> (null: any), of storage <paramref name="Status"/>, strictly
/// after <paramref name="After"/>, at most <paramref name="Limit"/>.
/// </summary>
public sealed record ImageBrowse(TagStatus Tagged, string? TagPrefix, ImageStatusFilter Status, ImageCursor? After, int Limit);
