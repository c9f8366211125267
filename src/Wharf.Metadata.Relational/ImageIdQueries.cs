using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>
/// SQL both backends share for image listings (the dialects agree on these): a page of ECR's
/// <c>ListImages</c> (digest, tag) rows and the tag-status condition of <c>DescribeImages</c>.
/// </summary>
internal static class ImageIdQueries
{
    /// <summary>
    /// A page of ListImages in (digest, tag) order, an untagged image's tag sorting as '' (before any name), after
    /// the cursor (<c>@afterDigest</c>, <c>@afterTag</c>) when <paramref name="after"/>. Each half reads one range of
    /// an index from the cursor and stops at <c>@limit</c> rows: tagged rows from tags (repository, digest, name),
    /// untagged ones from the manifests key, up to the tagged half's last digest when it is a full page; only those at
    /// most 2 × limit rows are sorted. (Sorting the union of
    /// the whole repository for every page made walking a large repository quadratic.) A digest is tagged or
    /// untagged within the one statement's snapshot, so the halves never share a digest.
    /// </summary>
    internal static string Page(SqlDialect dialect, TagStatus status, ImageStatusFilter imageStatus, bool after)
    {
        var tagged =
            "SELECT t.digest AS digest, t.name AS tag FROM tags t WHERE t.repository_id = @repository" +
            (after ? " AND (t.digest, t.name) > (@afterDigest, @afterTag)" : string.Empty) +
            TaggedStorageCondition(dialect, imageStatus, after) +
            " ORDER BY t.digest, t.name LIMIT @limit";

        // An untagged row's key is (digest, ''): past the cursor exactly when its digest is. When the tagged half fills
        // the page, no untagged image past its last digest can be on it: that bound ends the untagged half's range
        // (else a page of a repository with few untagged images read every manifest after the cursor to find them).
        // '~' sorts after every digest ('algorithm:hex', lowercase).
        string Untagged(string? bound) =>
            "SELECT m.digest AS digest, NULL AS tag FROM manifests m WHERE m.repository_id = @repository" +
            (after ? " AND m.digest > @afterDigest" : string.Empty) +
            (bound is null ? string.Empty : $" AND m.digest <= coalesce({bound}, '~')") +
            $" AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest{dialect.PerRow}) {StorageCondition(imageStatus, "m")}" +
            " ORDER BY m.digest LIMIT @limit";
        return status switch
        {
            TagStatus.Tagged => tagged,
            TagStatus.Untagged => Untagged(null),
            _ => $"WITH a AS ({tagged}) SELECT digest, tag FROM (SELECT * FROM a UNION ALL SELECT * FROM ({Untagged("(SELECT CASE WHEN count(*) < @limit THEN NULL ELSE max(digest) END FROM a)")}) AS b) AS ids " +
                "ORDER BY digest, coalesce(tag, '') LIMIT @limit",
        };
    }

    // The tag's image in the storage class asked for. Bounded below by the cursor too (redundant with the join): PostgreSQL
    // makes the EXISTS a merge semi-join, which without the bound read the repository's manifests from their first
    // digest up to the cursor, a cost growing with depth. (As a scalar subquery per tag its estimate was so poor that
    // the plan's cost crossed PostgreSQL's JIT threshold.)
    private static string TaggedStorageCondition(SqlDialect dialect, ImageStatusFilter imageStatus, bool after) =>
        imageStatus == ImageStatusFilter.Any ? string.Empty
            : " AND EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = t.repository_id AND s.digest = t.digest" +
              (after ? " AND s.digest >= @afterDigest" : string.Empty) + $" {StorageCondition(imageStatus, "s")}{dialect.PerRow})";

    /// <summary>An <c>AND …</c> condition on manifest alias <paramref name="alias"/> for the image status (storage class).</summary>
    internal static string StorageCondition(ImageStatusFilter imageStatus, string alias = "m") => imageStatus switch
    {
        ImageStatusFilter.Active => $"AND {alias}.storage_class = 'standard'",
        ImageStatusFilter.Archived => $"AND {alias}.storage_class = 'archive'",
        ImageStatusFilter.Activating => "AND 1 = 0", // restores are immediate: nothing is ever activating
        _ => string.Empty,
    };

    /// <summary>An <c>AND …</c> condition on manifest alias <c>m</c> for <paramref name="status"/>.</summary>
    internal static string StatusCondition(SqlDialect dialect, TagStatus status) => status switch
    {
        TagStatus.Tagged => $"AND EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest{dialect.PerRow})",
        TagStatus.Untagged => $"AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest{dialect.PerRow})",
        _ => string.Empty,
    };
}
