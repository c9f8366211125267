namespace Wharf.Core.Events;

/// <summary>An event to record with the write it describes, in the same transaction (the outbox).</summary>
/// <param name="Type">The event's kind, e.g. <c>ECR Image Action</c>.</param>
/// <param name="Payload">The event as JSON (EventBridge's envelope).</param>
/// <param name="At">When it happened.</param>
public sealed record OutboxEvent(string Type, string Payload, DateTimeOffset At);

/// <summary>A recorded event, with its position in the log.</summary>
public sealed record StoredEvent(long Id, string Type, string Payload, DateTimeOffset At);

/// <summary>A named consumer and the position of the last event it has handled.</summary>
public sealed record EventCursor(string Consumer, long Position);

/// <summary>What a prune did: the events deleted, and the consumers still holding events older than the retention.</summary>
public sealed record EventPruneResult(int Deleted, IReadOnlyList<EventCursor> Lagging);

/// <summary>
/// The event log: every change the stores record (pushes, deletions, tag removals, storage-class
/// changes, completed scans) goes in with the write it describes, in the same transaction, so a
/// consumer sees an event exactly when the change is visible. Appending is the stores' business (their
/// write methods take the event); consumers read from here, in position order, and keep a named cursor.
/// </summary>
public interface IEventLog
{
    /// <summary>
    /// Up to <paramref name="limit"/> events after <paramref name="after"/>, oldest first, and only those
    /// safe to consume: the list stops before an event that a write still committing may precede
    /// (see the implementation for how long such a gap is waited for, judged at <paramref name="now"/>),
    /// so a consumer that advances its cursor to the last event it got never skips one.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> ListAsync(long after, int limit, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The consumer's position, or 0 before it first advanced.</summary>
    Task<long> GetCursorAsync(string consumer, CancellationToken cancellationToken);

    /// <summary>Moves the consumer's cursor to <paramref name="position"/>; a cursor never moves back.</summary>
    Task AdvanceCursorAsync(string consumer, long position, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the events recorded before <paramref name="before"/> that every consumer has passed, and
    /// names the consumers whose unhandled events are older than that (those events are kept for them).
    /// </summary>
    Task<EventPruneResult> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
