using System.Data.Common;
using Wharf.Core.Events;

namespace Wharf.Metadata.Relational;

/// <summary>
/// The event log over the <c>events</c> and <c>event_cursors</c> tables. Stores append with
/// <see cref="AppendAsync"/> inside their own write transaction; consumers list, keep cursors and
/// prune through <see cref="IEventLog"/>.
/// </summary>
internal sealed class EventLog(Database database) : IEventLog
{
    /// <summary>
    /// How long a gap in the ids is waited for before it is taken for a rolled-back write. A write takes
    /// its id when it inserts and is seen when it commits, so on an engine whose ids may commit out of
    /// order (<see cref="SqlDialect.IdsCommitInOrder"/>) a missing id may be a write still committing:
    /// the events after it are withheld until it appears or the event after the gap is this old.
    /// </summary>
    public static readonly TimeSpan GapWait = TimeSpan.FromMinutes(1);

    /// <summary>Records <paramref name="evt"/> in the caller's write transaction: it commits, or rolls back, with the change it describes.</summary>
    internal static Task<int> AppendAsync(Session s, OutboxEvent evt, CancellationToken cancellationToken) =>
        s.ExecuteAsync(AppendSql, AppendParameters(evt), cancellationToken);

    /// <summary>Adds <see cref="AppendAsync"/>'s statement to a batch the caller runs in its write transaction.</summary>
    internal static void Append(StatementBatch batch, OutboxEvent evt) => batch.Add(AppendSql, AppendParameters(evt));

    private const string AppendSql = "INSERT INTO events (type, payload, created_at) VALUES (@type, @payload, @at)";

    private static (string, object?)[] AppendParameters(OutboxEvent evt) => [("type", evt.Type), ("payload", evt.Payload), ("at", Columns.Ms(evt.At))];

    public Task<IReadOnlyList<StoredEvent>> ListAsync(long after, int limit, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<StoredEvent>>(
            async s =>
            {
                var events = await s.ListAsync(
                    "SELECT id, type, payload, created_at FROM events WHERE id > @after ORDER BY id LIMIT @limit",
                    Map,
                    [("after", after), ("limit", limit)],
                    cancellationToken);
                return s.Dialect.IdsCommitInOrder ? events : Safe(events, after, now);
            },
            cancellationToken);

    public Task<long> GetCursorAsync(string consumer, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s => (await s.ListAsync("SELECT position FROM event_cursors WHERE consumer = @consumer", r => r.GetInt64(0), [("consumer", consumer)], cancellationToken)).FirstOrDefault(),
            cancellationToken);

    public Task AdvanceCursorAsync(string consumer, long position, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                """
                INSERT INTO event_cursors (consumer, position) VALUES (@consumer, @position)
                ON CONFLICT (consumer) DO UPDATE SET position = excluded.position WHERE event_cursors.position < excluded.position
                """,
                [("consumer", consumer), ("position", position)],
                cancellationToken),
            cancellationToken);

    public Task<EventPruneResult> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] at = [("before", Columns.Ms(before))];

                // Without consumers, age alone decides; with them, nothing a consumer has not passed goes.
                var deleted = await s.ExecuteAsync(
                    "DELETE FROM events WHERE created_at < @before AND id <= coalesce((SELECT min(position) FROM event_cursors), id)",
                    at,
                    cancellationToken);
                var lagging = await s.ListAsync(
                    """
                    SELECT c.consumer, c.position FROM event_cursors c
                    WHERE EXISTS (SELECT 1 FROM events e WHERE e.id > c.position AND e.created_at < @before)
                    ORDER BY c.consumer
                    """,
                    r => new EventCursor(r.GetString(0), r.GetInt64(1)),
                    at,
                    cancellationToken);
                return new EventPruneResult(deleted, lagging);
            },
            cancellationToken);

    // Events up to the first gap that a write still committing may fill (see GapWait).
    private static List<StoredEvent> Safe(List<StoredEvent> events, long after, DateTimeOffset now)
    {
        var expected = after + 1;
        var count = 0;
        foreach (var evt in events)
        {
            if (evt.Id != expected && now - evt.At < GapWait)
            {
                break;
            }

            expected = evt.Id + 1;
            count++;
        }

        return events.GetRange(0, count);
    }

    private static StoredEvent Map(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.Time(3));
}
