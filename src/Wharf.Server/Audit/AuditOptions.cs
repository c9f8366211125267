namespace Wharf.Server.Hosting;

/// <summary>The audit trail (<c>Audit:*</c>; docs/operations.md "Audit trail").</summary>
public sealed class AuditOptions
{
    /// <summary>Whether calls are recorded. Off: nothing new is recorded; what is kept is still pruned and can still be looked up.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long records are kept (CloudTrail's event history keeps 90 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often records older than <see cref="Retention"/> are deleted.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A file every record is also appended to, one CloudTrail JSON record a line (for a SIEM); none when empty.</summary>
    public string? File { get; set; }

    /// <summary>
    /// How many finished calls may wait for the batch writer. A request never waits for the store: past this
    /// many, further records are dropped, counted and logged (a store that is down for long, or far slower than the traffic).
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;
}
