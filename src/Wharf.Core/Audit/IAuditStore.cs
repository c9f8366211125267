namespace Wharf.Core.Audit;

/// <summary>
/// The audit trail (docs/operations.md "Audit trail"): one CloudTrail-shaped record per API call and per
/// /v2 write, delete or refusal, kept in the metadata store for <c>Audit:Retention</c> and read by
/// CloudTrail's <c>LookupEvents</c> and <c>wharf audit</c>. Appended in batches, off the request path.
/// </summary>
public interface IAuditStore
{
    /// <summary>Appends <paramref name="events"/> in one transaction; an event id already stored is skipped (a retried batch). Returns how many were added.</summary>
    Task<int> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken);

    /// <summary>Events in <see cref="AuditQuery"/>'s time range matching its filters, newest first, one page after its cursor.</summary>
    Task<AuditPage> LookupAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Deletes the events older than <paramref name="before"/>; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>
/// One recorded call: the columns lookups filter on, and <see cref="Document"/>, the CloudTrail record
/// itself (JSON, secrets already redacted) as <c>LookupEvents</c> answers it in <c>CloudTrailEvent</c>.
/// <see cref="Account"/> is the account whose trail holds it (the caller's; the repository's owner for an
/// anonymous caller), empty when neither is known.
/// </summary>
public sealed record AuditEvent(
    string EventId,
    DateTimeOffset Time,
    string Account,
    string EventSource,
    string EventName,
    bool ReadOnly,
    string? Username,
    string? PrincipalArn,
    string? AccessKeyId,
    string? ResourceType,
    string? ResourceName,
    string? ErrorCode,
    string Document);

/// <summary>What a lookup may filter on: CloudTrail's lookup attributes, and the principal's ARN (<c>wharf audit --principal</c>).</summary>
public enum AuditAttribute
{
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
    PrincipalArn,
}

/// <summary>An attribute equal to a value (<see cref="AuditAttribute.ReadOnly"/>: <c>true</c> or <c>false</c>).</summary>
public sealed record AuditFilter(AuditAttribute Attribute, string Value);

/// <summary>The last event of a page: the next page starts after it in (time, id) descending order.</summary>
public sealed record AuditCursor(DateTimeOffset Time, string EventId);

/// <summary>A lookup: the events of <paramref name="Account"/> (every account when null) from <paramref name="Start"/> to <paramref name="End"/> inclusive.</summary>
public sealed record AuditQuery(string? Account, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<AuditFilter> Filters, int Limit, AuditCursor? After = null);

/// <summary>A page of events, and the cursor of the next page when there may be one.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEvent> Events, AuditCursor? Next);
