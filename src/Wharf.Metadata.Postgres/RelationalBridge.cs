using Wharf.Core.Events;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

// The image store's writes still run on PgDatabase's own session: until it moves to
// Wharf.Metadata.Relational, they append events and request scans with the relational stores' SQL.
internal static class PgEvents
{
    public static Task<int> AppendAsync(PgDatabase.Session s, OutboxEvent evt, CancellationToken cancellationToken) =>
        s.ExecuteAsync(EventLog.AppendSql, EventLog.AppendParameters(evt), cancellationToken);
}

internal static class PgScanStore
{
    public static async Task<bool> RequestInAsync(PgDatabase.Session s, long repositoryId, Digest digest, DateTimeOffset now, DateTimeOffset? limitStart, CancellationToken cancellationToken) =>
        await s.ExecuteAsync(ScanStore.RequestSql, ScanStore.RequestParameters(repositoryId, digest, now, limitStart), cancellationToken) > 0;
}
