using Npgsql;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Postgres;

internal sealed class PgRepositoryStore(PgDatabase database) : IRepositoryStore
{
    private const string SelectColumns = "id, account, region, name, created_at";

    public Task<Repository?> GetAsync(RepositoryKey key, CancellationToken cancellationToken) =>
        database.ReadAsync(s => GetAsync(s, key, cancellationToken), cancellationToken);

    public Task<Repository?> CreateAsync(RepositoryKey key, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.SingleAsync(
                $"""
                INSERT INTO repositories (account, region, name, created_at) VALUES (@account, @region, @name, @now)
                ON CONFLICT (account, region, name) DO NOTHING
                RETURNING {SelectColumns}
                """,
                Map,
                [.. KeyParameters(key), ("now", Columns.Ms(now))],
                cancellationToken),
            cancellationToken);

    public async Task<Repository> GetOrCreateAsync(RepositoryKey key, DateTimeOffset now, CancellationToken cancellationToken) =>
        await GetAsync(key, cancellationToken)
        ?? await database.WriteAsync(
            async s =>
            {
                // ON CONFLICT waits for a concurrent creator to commit, so the row is visible to the next statement.
                await s.ExecuteAsync(
                    """
                    INSERT INTO repositories (account, region, name, created_at) VALUES (@account, @region, @name, @now)
                    ON CONFLICT (account, region, name) DO NOTHING
                    """,
                    [.. KeyParameters(key), ("now", Columns.Ms(now))],
                    cancellationToken);
                return await GetAsync(s, key, cancellationToken)
                    ?? throw new InvalidOperationException($"Repository {key} vanished inside its creating transaction.");
            },
            cancellationToken);

    public Task<IReadOnlyList<Repository>> ListAsync(RegistryKey registry, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Repository>>(
            async s => await s.ListAsync(
                $"""
                SELECT {SelectColumns} FROM repositories
                WHERE account = @account AND region = @region AND (@after::text IS NULL OR name > @after::text)
                ORDER BY name LIMIT @limit
                """,
                Map,
                [("account", registry.Account.Value), ("region", registry.Region), ("after", after), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM repositories WHERE id = @id", [("id", repositoryId)], cancellationToken) > 0,
            cancellationToken);

    private static Task<Repository?> GetAsync(PgDatabase.Session s, RepositoryKey key, CancellationToken cancellationToken) =>
        s.SingleAsync(
            $"SELECT {SelectColumns} FROM repositories WHERE account = @account AND region = @region AND name = @name",
            Map,
            KeyParameters(key),
            cancellationToken);

    private static (string, object?)[] KeyParameters(RepositoryKey key) =>
        [("account", key.Registry.Account.Value), ("region", key.Registry.Region), ("name", key.Name.Value)];

    private static Repository Map(NpgsqlDataReader r) =>
        new(
            r.GetInt64(0),
            new RepositoryKey(new RegistryKey(AccountId.Parse(r.GetString(1)), r.GetString(2)), RepositoryName.Parse(r.GetString(3))),
            r.Time(4));
}
