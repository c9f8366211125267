using Wharf.Core.Primitives;
using Wharf.Core.Replication;

namespace Wharf.Core.Metadata;

/// <summary>The statuses of <c>DescribeImageReplicationStatus</c>.</summary>
public static class ReplicationStatuses
{
    public const string InProgress = "IN_PROGRESS";
    public const string Complete = "COMPLETE";
    public const string Failed = "FAILED";
}

/// <summary>
/// One image to copy to one destination: the source registry, the repository (its name is kept), the
/// image's digest, the destination and the tags to carry (none: by digest only).
/// </summary>
public sealed record ReplicationRequest(RegistryKey Source, RepositoryName Repository, Digest Digest, ReplicationDestination Destination, IReadOnlyList<string> Tags)
{
    public RepositoryKey SourceRepository => new(Source, Repository);
}

/// <summary>
/// A replication row: the request, its status, the failure of the last attempt (<paramref name="FailureCode"/>
/// and <paramref name="Reason"/>), how many attempts were made since it was armed (<paramref name="ArmedAt"/>:
/// by the push or restore that asked for it), when the next one is due, and its <paramref name="Version"/>,
/// which each re-arming moves on so that an attempt of the earlier version does not settle it.
/// </summary>
public sealed record ReplicationRecord(
    long Id,
    ReplicationRequest Request,
    string Status,
    string? FailureCode,
    string? Reason,
    int Attempts,
    long Version,
    DateTimeOffset ArmedAt,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset UpdatedAt);

/// <summary>What an attempt came to: <c>COMPLETE</c>, <c>FAILED</c>, or <c>IN_PROGRESS</c> again at <paramref name="NextAttemptAt"/>.</summary>
public sealed record ReplicationAttempt(string Status, string? FailureCode, string? Reason, DateTimeOffset NextAttemptAt);

/// <summary>
/// The replication queue and its statuses (docs/replication.md): one row per image, destination and
/// source repository. Rows are claimed by one node at a time (a claim that expires when its node died).
/// </summary>
public interface IReplicationStore
{    /// <summary>How many replications are armed and not finished (<c>IN_PROGRESS</c>; <c>wharf status</c>, from the due replications' index).</summary>
    Task<long> CountPendingAsync(CancellationToken cancellationToken);


    /// <summary>
    /// Arms the row of <paramref name="request"/>: inserts it <c>IN_PROGRESS</c> and due at <paramref name="now"/>, or
    /// re-arms the existing row (a repeat push): due now, attempts from zero, its version moved on, its
    /// failure cleared, and its tags those of the request together with the ones a row still in progress
    /// had yet to carry. Never a second row. Returns the row.
    /// </summary>
    Task<ReplicationRecord> EnqueueAsync(ReplicationRequest request, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="limit"/> rows in progress that are due at <paramref name="now"/> and
    /// unclaimed (or whose claim expired) for <paramref name="owner"/> until <paramref name="now"/> +
    /// <paramref name="duration"/>, earliest due first. A row is claimed by one owner at a time however
    /// many ask at once.
    /// </summary>
    Task<IReadOnlyList<ReplicationRecord>> ClaimDueAsync(string owner, DateTimeOffset now, TimeSpan duration, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Extends to <paramref name="until"/> the claims <paramref name="owner"/> still holds on the rows
    /// <paramref name="ids"/> (the heartbeat of copies in flight, so a claim can be short and a node that
    /// died frees its rows soon). Returns how many claims were extended; a claim lost meanwhile is not taken back.
    /// </summary>
    Task<int> RenewClaimsAsync(IReadOnlyCollection<long> ids, string owner, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// Records an attempt of the claimed row (counting it, releasing the claim). False, changing nothing,
    /// when <paramref name="owner"/> no longer holds the claim or the row was re-armed since it was claimed
    /// (its version moved on): the re-armed row is then due as it is.
    /// </summary>
    Task<bool> RecordAttemptAsync(long id, long version, string owner, ReplicationAttempt attempt, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The rows of one image of a source repository, by destination region then registry.</summary>
    Task<IReadOnlyList<ReplicationRecord>> ListForImageAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken);

    /// <summary>How many rows there are of each status (for <c>wharf replication</c> and the logs).</summary>
    Task<IReadOnlyDictionary<string, int>> CountByStatusAsync(CancellationToken cancellationToken);
}
