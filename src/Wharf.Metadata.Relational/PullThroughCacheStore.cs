using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>Pull-through cache tag freshness over the <c>pull_through_tags</c> table (migration 15).</summary>
internal sealed class PullThroughCacheStore(Database database) : IPullThroughCacheStore
{
    public Task<TagValidation?> GetTagValidationAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT digest, validated_at FROM pull_through_tags WHERE repository_id = @repository AND tag = @tag",
                r => new TagValidation(Digest.Parse(r.GetString(0)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))),
                [("repository", repositoryId), ("tag", tag)],
                cancellationToken),
            cancellationToken);

    public Task SetTagValidationAsync(long repositoryId, string tag, Digest digest, DateTimeOffset validatedAt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                // A repository deleted meanwhile keeps no row (the INSERT selects from it).
                """
                INSERT INTO pull_through_tags (repository_id, tag, digest, validated_at)
                SELECT id, @tag, @digest, @at FROM repositories WHERE id = @repository
                ON CONFLICT (repository_id, tag) DO UPDATE SET digest = excluded.digest, validated_at = excluded.validated_at
                WHERE pull_through_tags.validated_at <= excluded.validated_at
                """,
                [("repository", repositoryId), ("tag", tag), ("digest", digest.ToString()), ("at", Columns.Ms(validatedAt))],
                cancellationToken),
            cancellationToken);
}
