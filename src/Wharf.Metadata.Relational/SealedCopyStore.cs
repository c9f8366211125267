using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Wharf.Core.Encryption;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

internal sealed class SealedCopyStore(Database database) : ISealedCopyStore
{
    private const string Selected = "digest, scope, address, size, runs, upload_id, created_at";

    public Task<SealedCopy?> GetAsync(Digest digest, string scopeId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"SELECT {Selected} FROM sealed_copies WHERE digest = @digest AND scope = @scope",
                Map,
                [("digest", digest.ToString()), ("scope", scopeId)],
                cancellationToken),
            cancellationToken);

    public Task<bool> AddAsync(SealedCopy copy, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                $"INSERT INTO sealed_copies ({Selected}) VALUES (@digest, @scope, @address, @size, @runs, @upload, @now) ON CONFLICT (digest, scope) DO NOTHING",
                [
                    ("digest", copy.Digest.ToString()),
                    ("scope", copy.ScopeId),
                    ("address", copy.Address.ToString()),
                    ("size", copy.Size),
                    ("runs", string.Join(',', copy.Runs.Select(r => r.ToString(CultureInfo.InvariantCulture)))),
                    ("upload", copy.UploadId),
                    ("now", Columns.Ms(copy.CreatedAt)),
                ],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeleteAsync(Digest digest, string scopeId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "DELETE FROM sealed_copies WHERE digest = @digest AND scope = @scope",
                [("digest", digest.ToString()), ("scope", scopeId)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<SealedCopy>> ListAsync(Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SealedCopy>>(
            async s => await s.ListAsync($"SELECT {Selected} FROM sealed_copies WHERE digest = @digest ORDER BY scope", Map, [("digest", digest.ToString())], cancellationToken),
            cancellationToken);

    public async IAsyncEnumerable<SealedCopy> ListAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.Dialect.OpenAsync(cancellationToken);
        await using var command = new Session(connection, null, database.Dialect).Command($"SELECT {Selected} FROM sealed_copies ORDER BY digest, scope", []);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return Map(reader);
        }
    }

    private static SealedCopy Map(DbDataReader r)
    {
        var runs = r.GetString(4);
        return new SealedCopy(
            r.Digest(0),
            r.GetString(1),
            Digest.Parse(r.GetString(2)),
            r.GetInt64(3),
            runs.Length == 0 ? [] : [.. runs.Split(',').Select(x => long.Parse(x, NumberStyles.None, CultureInfo.InvariantCulture))],
            r.GetString(5),
            r.Time(6));
    }
}
