using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>When a pull-through cache tag was last checked against its upstream, and what it pointed at then.</summary>
/// <param name="Digest">The digest the upstream's tag had.</param>
/// <param name="ValidatedAt">When the upstream said so.</param>
public sealed record TagValidation(Digest Digest, DateTimeOffset ValidatedAt);

/// <summary>
/// The freshness of pull-through cache tags (ECR-NOTES §7.3): per repository and tag, when the upstream
/// was last asked. Rows go with their repository.
/// </summary>
public interface IPullThroughCacheStore
{
    /// <summary>The tag's last validation, or null when it was never validated.</summary>
    Task<TagValidation?> GetTagValidationAsync(long repositoryId, string tag, CancellationToken cancellationToken);

    /// <summary>Records that the upstream's tag pointed at <paramref name="digest"/> at <paramref name="validatedAt"/> (a later record replaces an earlier one).</summary>
    Task SetTagValidationAsync(long repositoryId, string tag, Digest digest, DateTimeOffset validatedAt, CancellationToken cancellationToken);
}
