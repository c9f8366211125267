using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>
/// SQL fragments both backends share for image listings (the dialects agree on these): the
/// (digest, tag) rows of ECR's <c>ListImages</c> and the tag-status condition of <c>DescribeImages</c>.
/// </summary>
internal static class ImageIdQueries
{
    /// <summary>Rows (digest, tag) of a repository for <paramref name="status"/>; tag is NULL for an untagged image.</summary>
    internal static string Union(TagStatus status, string repositoryParameter, ImageStatusFilter imageStatus = ImageStatusFilter.Active)
    {
        var tagged = $"SELECT t.digest AS digest, t.name AS tag FROM tags t WHERE t.repository_id = {repositoryParameter}" +
            (imageStatus == ImageStatusFilter.Any ? string.Empty
                : $" AND EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = t.repository_id AND s.digest = t.digest {StorageCondition(imageStatus, "s")})");
        var untagged =
            $"SELECT m.digest AS digest, NULL AS tag FROM manifests m WHERE m.repository_id = {repositoryParameter} " +
            $"AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest) {StorageCondition(imageStatus, "m")}";
        return status switch
        {
            TagStatus.Tagged => tagged,
            TagStatus.Untagged => untagged,
            _ => $"{tagged} UNION ALL {untagged}",
        };
    }

    /// <summary>An <c>AND …</c> condition on manifest alias <paramref name="alias"/> for the image status (storage class).</summary>
    internal static string StorageCondition(ImageStatusFilter imageStatus, string alias = "m") => imageStatus switch
    {
        ImageStatusFilter.Active => $"AND {alias}.storage_class = 'standard'",
        ImageStatusFilter.Archived => $"AND {alias}.storage_class = 'archive'",
        ImageStatusFilter.Activating => "AND 1 = 0", // restores are immediate: nothing is ever activating
        _ => string.Empty,
    };

    /// <summary>An <c>AND …</c> condition on manifest alias <c>m</c> for <paramref name="status"/>.</summary>
    internal static string StatusCondition(TagStatus status) => status switch
    {
        TagStatus.Tagged => "AND EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)",
        TagStatus.Untagged => "AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)",
        _ => string.Empty,
    };
}
