using System.Collections.Concurrent;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Services;

/// <summary>
/// Keeps ECR's <c>lastRecordedPullTime</c> without a database write per pull: pulls are noted in
/// memory (the latest per image) and written in one batch by <see cref="FlushAsync"/>, which the host
/// runs on an interval and at shutdown. A crash loses at most one interval of pull times, never data.
/// </summary>
public sealed class PullRecorder(IMetadataStore store, TimeProvider time)
{
    private ConcurrentDictionary<(long RepositoryId, Digest Digest), DateTimeOffset> pending = new();

    /// <summary>Pulls noted and not yet written.</summary>
    public int PendingCount => pending.Count;

    public void Record(long repositoryId, Digest digest)
    {
        var now = time.GetUtcNow();
        var key = (repositoryId, digest);
        var map = pending;

        // A hot image is pulled many times a second: a lock-free read skips the write when the noted
        // time is already this recent (a second is far finer than ECR's daily resolution).
        if (!map.TryGetValue(key, out var noted) || now - noted >= TimeSpan.FromSeconds(1))
        {
            map[key] = now;
        }
    }

    /// <summary>Writes every noted pull; returns how many images were written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var batch = Interlocked.Exchange(ref pending, new ConcurrentDictionary<(long RepositoryId, Digest Digest), DateTimeOffset>());
        if (batch.IsEmpty)
        {
            return 0;
        }

        var records = batch.Select(p => new PullRecord(p.Key.RepositoryId, p.Key.Digest, p.Value)).ToList();
        try
        {
            await store.Images.RecordPullsAsync(records, cancellationToken);
        }
        catch
        {
            // Put them back (unless a newer pull arrived meanwhile) so that the next flush tries again.
            foreach (var record in records)
            {
                pending.AddOrUpdate((record.RepositoryId, record.Digest), record.PulledAt, (_, newer) => newer > record.PulledAt ? newer : record.PulledAt);
            }

            throw;
        }

        return records.Count;
    }
}
