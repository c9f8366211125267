using System.Data.Common;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;

namespace Wharf.Metadata.Relational;

/// <summary>The replication queue over the <c>replications</c> table (migration 13).</summary>
internal sealed class ReplicationStore(Database database) : IReplicationStore
{
    private const string Selected =
        """
        id, source_account, source_region, repository, digest, destination_region, destination_registry, tags,
        status, failure_code, reason, attempts, version, armed_at, next_attempt_at, updated_at
        """;

    private const string KeyMatch =
        """
        source_account = @account AND source_region = @region AND repository = @repository AND digest = @digest
        AND destination_region = @destinationRegion AND destination_registry = @destinationRegistry
        """;

    public Task<ReplicationRecord> EnqueueAsync(ReplicationRequest request, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var key = Key(request);
                (string, object?)[] parameters = [.. key, ("tags", Tags(request.Tags)), ("now", Columns.Ms(now))];
                var inserted = await s.ExecuteAsync(
                    """
                    INSERT INTO replications (source_account, source_region, repository, digest, destination_region, destination_registry,
                        tags, status, attempts, version, armed_at, next_attempt_at, created_at, updated_at)
                    VALUES (@account, @region, @repository, @digest, @destinationRegion, @destinationRegistry,
                        @tags, 'IN_PROGRESS', 0, 1, @now, @now, @now, @now)
                    ON CONFLICT (source_account, source_region, repository, digest, destination_region, destination_registry) DO NOTHING
                    """,
                    parameters,
                    cancellationToken);
                if (inserted == 0)
                {
                    // A repeat push: the tags a copy still in progress had yet to carry go with the new ones.
                    var existing = await s.SingleAsync($"SELECT {Selected} FROM replications WHERE {KeyMatch} {s.Dialect.ForUpdate}", Map, key, cancellationToken)
                        ?? throw new InvalidOperationException("the replication row conflicted but cannot be read");
                    var tags = existing.Status == ReplicationStatuses.InProgress
                        ? existing.Request.Tags.Union(request.Tags, StringComparer.Ordinal).ToList()
                        : request.Tags;
                    await s.ExecuteAsync(
                        """
                        UPDATE replications SET tags = @tags, status = 'IN_PROGRESS', failure_code = NULL, reason = NULL, attempts = 0,
                            version = version + 1, armed_at = @now, next_attempt_at = @now, updated_at = @now
                        WHERE id = @id
                        """,
                        [("tags", Tags(tags)), ("now", Columns.Ms(now)), ("id", existing.Id)],
                        cancellationToken);
                }

                return await s.SingleAsync($"SELECT {Selected} FROM replications WHERE {KeyMatch}", Map, key, cancellationToken)
                    ?? throw new InvalidOperationException("the replication row just written cannot be read");
            },
            cancellationToken);

    public Task<IReadOnlyList<ReplicationRecord>> ClaimDueAsync(string owner, DateTimeOffset now, TimeSpan duration, int limit, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<ReplicationRecord>>(
            async s =>
            {
                (string, object?)[] at = [("now", Columns.Ms(now)), ("limit", limit)];
                var due = await s.ListAsync(
                    $"""
                    SELECT {Selected} FROM replications
                    WHERE status = 'IN_PROGRESS' AND next_attempt_at <= @now AND (claim_until IS NULL OR claim_until <= @now)
                    ORDER BY next_attempt_at, id LIMIT @limit
                    """,
                    Map,
                    at,
                    cancellationToken);
                var claimed = new List<ReplicationRecord>(due.Count);
                foreach (var row in due)
                {
                    // The condition is asked again: a node that read the same row first has claimed it by now.
                    if (await s.ExecuteAsync(
                        """
                        UPDATE replications SET claim_owner = @owner, claim_until = @until
                        WHERE id = @id AND status = 'IN_PROGRESS' AND (claim_until IS NULL OR claim_until <= @now)
                        """,
                        [("owner", owner), ("until", Columns.Ms(now + duration)), ("id", row.Id), ("now", Columns.Ms(now))],
                        cancellationToken) > 0)
                    {
                        claimed.Add(row);
                    }
                }

                return claimed;
            },
            cancellationToken);

    public Task<int> RenewClaimsAsync(IReadOnlyCollection<long> ids, string owner, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken) =>
        ids.Count == 0
            ? Task.FromResult(0)
            : database.WriteAsync(
                async s =>
                {
                    var renewed = 0;
                    foreach (var id in ids)
                    {
                        // Only a claim still held: one that expired may be another node's by now.
                        renewed += await s.ExecuteAsync(
                            "UPDATE replications SET claim_until = @until WHERE id = @id AND claim_owner = @owner AND claim_until > @now",
                            [("id", id), ("owner", owner), ("now", Columns.Ms(now)), ("until", Columns.Ms(until))],
                            cancellationToken);
                    }

                    return renewed;
                },
                cancellationToken);

    public Task<bool> RecordAttemptAsync(long id, long version, string owner, ReplicationAttempt attempt, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // Re-armed while this attempt ran: the claim goes, so the new version is due at once.
                await s.ExecuteAsync(
                    "UPDATE replications SET claim_owner = NULL, claim_until = NULL WHERE id = @id AND claim_owner = @owner AND version <> @version",
                    [("id", id), ("owner", owner), ("version", version)],
                    cancellationToken);
                return await s.ExecuteAsync(
                    """
                    UPDATE replications SET status = @status, failure_code = CAST(@code AS TEXT), reason = CAST(@reason AS TEXT), attempts = attempts + 1,
                        next_attempt_at = @next, updated_at = @now, claim_owner = NULL, claim_until = NULL
                    WHERE id = @id AND claim_owner = @owner AND version = @version
                    """,
                    [
                        ("id", id), ("owner", owner), ("version", version), ("status", attempt.Status), ("code", attempt.FailureCode),
                        ("reason", attempt.Reason), ("next", Columns.Ms(attempt.NextAttemptAt)), ("now", Columns.Ms(now)),
                    ],
                    cancellationToken) > 0;
            },
            cancellationToken);

    public Task<IReadOnlyList<ReplicationRecord>> ListForImageAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReplicationRecord>>(
            async s => await s.ListAsync(
                $"""
                SELECT {Selected} FROM replications
                WHERE source_account = @account AND source_region = @region AND repository = @repository AND digest = @digest
                ORDER BY destination_region, destination_registry
                """,
                Map,
                [("account", source.Registry.Account.Value), ("region", source.Registry.Region), ("repository", source.Name.Value), ("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyDictionary<string, int>> CountByStatusAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyDictionary<string, int>>(
            async s => (await s.ListAsync("SELECT status, count(*) FROM replications GROUP BY status", r => (r.GetString(0), (int)r.GetInt64(1)), [], cancellationToken))
                .ToDictionary(c => c.Item1, c => c.Item2, StringComparer.Ordinal),
            cancellationToken);

    private static (string, object?)[] Key(ReplicationRequest request) =>
    [
        ("account", request.Source.Account.Value), ("region", request.Source.Region), ("repository", request.Repository.Value),
        ("digest", request.Digest.ToString()), ("destinationRegion", request.Destination.Region), ("destinationRegistry", request.Destination.RegistryId),
    ];

    // Tags cannot hold spaces, so a space-separated list is unambiguous.
    private static string Tags(IEnumerable<string> tags) => string.Join(' ', tags);

    private static ReplicationRecord Map(DbDataReader r) => new(
        r.GetInt64(0),
        new ReplicationRequest(
            new RegistryKey(AccountId.Parse(r.GetString(1)), r.GetString(2)),
            RepositoryName.Parse(r.GetString(3)),
            r.Digest(4),
            new ReplicationDestination(r.GetString(5), r.GetString(6)),
            r.GetString(7).Split(' ', StringSplitOptions.RemoveEmptyEntries)),
        r.GetString(8),
        r.NullableString(9),
        r.NullableString(10),
        (int)r.GetInt64(11),
        r.GetInt64(12),
        r.Time(13),
        r.Time(14),
        r.Time(15));

    // The predicate matches the partial index replications_due, so the count reads only pending rows.
    public Task<long> CountPendingAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM replications WHERE status = 'IN_PROGRESS'", [], cancellationToken), cancellationToken);

}
