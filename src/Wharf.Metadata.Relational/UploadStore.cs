using System.Data.Common;
using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

internal sealed class UploadStore(Database database) : IUploadStore
{
    // Chunk names never hold a space; each is appended with one in front.
    private const char ChunkSeparator = ' ';
    private const string SelectUpload = "SELECT id, repository_id, \"offset\", started_at, expires_at, chunks FROM uploads";

    public Task CreateAsync(UploadSession session, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                "INSERT INTO uploads (id, repository_id, \"offset\", started_at, expires_at, chunks) VALUES (@id, @repository, @offset, @started, @expires, @chunks)",
                [
                    ("id", session.Id), ("repository", session.RepositoryId), ("offset", session.Offset),
                    ("started", Columns.Ms(session.StartedAt)), ("expires", Columns.Ms(session.ExpiresAt)),
                    ("chunks", string.Join(ChunkSeparator, session.Chunks)),
                ],
                cancellationToken),
            cancellationToken);

    public Task<UploadSession?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.SingleAsync($"{SelectUpload} WHERE id = @id", Map, [("id", id)], cancellationToken), cancellationToken);

    // One statement moves the offset and records the chunk: of two writes at one offset, the chunk
    // recorded is always the one whose advance won.
    public Task<bool> AdvanceAsync(string id, long expectedOffset, long newOffset, string? chunk, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "UPDATE uploads SET \"offset\" = @new, chunks = chunks || @chunk WHERE id = @id AND \"offset\" = @expected",
                [("id", id), ("expected", expectedOffset), ("new", newOffset), ("chunk", chunk is null ? string.Empty : ChunkSeparator + chunk)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM uploads WHERE id = @id", [("id", id)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<UploadSession>> ListExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<UploadSession>>(
            async s => await s.ListAsync(
                $"{SelectUpload} WHERE expires_at <= @now ORDER BY expires_at, id LIMIT @limit",
                Map,
                [("now", Columns.Ms(now)), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<long> CountOpenAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM uploads WHERE expires_at > @now", [("now", Columns.Ms(now))], cancellationToken), cancellationToken);

    public Task<bool> ExistsAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ExistsAsync("SELECT 1 FROM uploads WHERE id = @id", [("id", id)], cancellationToken), cancellationToken);

    private static UploadSession Map(DbDataReader r) =>
        new(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.Time(3), r.Time(4))
        {
            Chunks = r.GetString(5).Split(ChunkSeparator, StringSplitOptions.RemoveEmptyEntries),
        };

    public Task<long> CountAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM uploads", [], cancellationToken), cancellationToken);

}
