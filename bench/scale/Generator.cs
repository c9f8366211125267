using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Wharf.Bench;

/// <summary>
/// Fills a migrated Wharf metadata database (SQLite or PostgreSQL) fast, with set-based SQL over a table of numbers
/// rather than a store call per row: repositories, and images as a push leaves them (a blob row, its link to the
/// repository, the manifest, its blob reference, a tag for most). Digests are made up (a lead character and the
/// image's number in hex): nothing reads a generated manifest's bytes back against its digest, and the probes the
/// benchmark times are pushed for real. All in one transaction; on PostgreSQL the tables are analysed afterwards.
/// </summary>
internal sealed class Generator(DbConnection connection, bool postgres) : IAsyncDisposable
{
    public const string Account = "123456789012";
    public const string Region = "us-east-1";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private DbTransaction? transaction;

    public static async Task<Generator> OpenAsync(DbConnection connection, bool postgres, long numbers)
    {
        await connection.OpenAsync();
        var generator = new Generator(connection, postgres) { transaction = await connection.BeginTransactionAsync() };
        await generator.ExecuteAsync(postgres
            ? $"CREATE TEMPORARY TABLE bench_n AS SELECT generate_series(0, {numbers - 1})::bigint AS i"
            : $"CREATE TEMPORARY TABLE bench_n (i INTEGER PRIMARY KEY); WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < {numbers}) INSERT INTO bench_n SELECT i FROM s");
        return generator;
    }

    /// <summary>Repositories <paramref name="prefix"/>0000000… in the default registry (one: the prefix is its name); returns the first id (the ids are consecutive).</summary>
    public async Task<long> RepositoriesAsync(string prefix, long count, long t0)
    {
        await ExecuteAsync(
            $"INSERT INTO repositories (account, region, name, created_at) SELECT '{Account}', '{Region}', '{prefix}'{(count == 1 ? string.Empty : " || " + Pad("i", 7))}, {t0} + i FROM bench_n WHERE i < {count}");
        var ids = await ListAsync($"SELECT min(id), max(id), count(*) FROM repositories WHERE name LIKE '{prefix}%'");
        return ids[1] - ids[0] + 1 == count && ids[2] == count ? ids[0] : throw new InvalidOperationException("repository ids are not consecutive");
    }

    /// <summary>
    /// Images <paramref name="first"/>… (<paramref name="count"/> of them) spread round-robin over repositories
    /// <paramref name="repositoryBase"/>… (<paramref name="repositories"/> of them), one blob each; every image is
    /// tagged <paramref name="tagPrefix"/> and its number but every <paramref name="untaggedEvery"/>th (0: none untagged).
    /// </summary>
    public async Task ImagesAsync(long first, long count, long repositoryBase, long repositories, string tagPrefix, int untaggedEvery, long t0)
    {
        var n = $"FROM bench_n WHERE i < {count}";
        var repository = $"{repositoryBase} + i % {repositories}";
        var blob = Digest('b', $"{first} + i");
        var manifest = Digest('c', $"{first} + i");
        await ExecuteAsync($"INSERT INTO blobs (digest, size, state, touched_at) SELECT {blob}, 1000 + i % 1000, 'live', {t0} + i {n}");
        await ExecuteAsync($"INSERT INTO repository_blobs (repository_id, digest, linked_at) SELECT {repository}, {blob}, {t0} + i {n}");
        await ExecuteAsync(
            $"""
            INSERT INTO manifests (repository_id, digest, media_type, content, pushed_at, image_size)
            SELECT {repository}, {manifest}, 'application/vnd.oci.image.manifest.v1+json',
                   {Bytes($"'{{\"schemaVersion\":2,\"seed\":' || {Text($"{first} + i")} || '}}'")}, {t0} + i, 1000 + i % 1000 {n}
            """);
        await ExecuteAsync($"INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) SELECT {repository}, {manifest}, {blob} {n}");
        await ExecuteAsync(
            $"INSERT INTO tags (repository_id, name, digest, updated_at) SELECT {repository}, '{tagPrefix}' || {Pad("i", 7)}, {manifest}, {t0} + i {n}" +
            (untaggedEvery > 0 ? $" AND i % {untaggedEvery} <> 0" : string.Empty));
    }

    public async Task CommitAsync()
    {
        await ExecuteAsync("DROP TABLE bench_n");
        await transaction!.CommitAsync();
        transaction = null;
        if (postgres)
        {
            await ExecuteAsync("ANALYZE");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (transaction is not null)
        {
            await transaction.DisposeAsync();
        }

        await connection.DisposeAsync();
    }

    // 'sha256:' and 64 hex digits: the lead character, then the number.
    private string Digest(char lead, string number) =>
        postgres ? $"('sha256:{lead}' || lpad(to_hex({number}), 63, '0'))" : $"('sha256:{lead}' || printf('%063x', {number}))";

    private string Pad(string number, int width) =>
        postgres ? $"lpad(({number})::text, {width}, '0')" : $"printf('%0{width.ToString(Invariant)}d', {number})";

    private string Text(string number) => postgres ? $"({number})::text" : $"({number})";

    private string Bytes(string text) => postgres ? $"convert_to({text}, 'UTF8')" : $"CAST({text} AS BLOB)";

    [SuppressMessage("Security", "CA2100", Justification = "The generator's own SQL: numbers and fixed names, no input.")]
    private async Task ExecuteAsync(string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    [SuppressMessage("Security", "CA2100", Justification = "The generator's own SQL: numbers and fixed names, no input.")]
    private async Task<long[]> ListAsync(string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return [.. Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToInt64(reader.GetValue(i), Invariant))];
    }
}
