using System.Collections.Concurrent;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Images;

/// <summary>
/// Keeps ECR's <c>lastRecordedPullTime</c> without a database write per pull: pulls are noted in
/// memory (the latest per image and puller) and written in one batch by <see cref="FlushAsync"/>, which
/// the host runs on an interval and at shutdown. A crash loses at most one interval of pull times, never
/// data. Pulls by a registry's pull-time update exclusions (<see cref="PullTimeExclusions"/>) are dropped
/// at the flush, which reads each registry's list once, so a pull costs no database read either.
/// </summary>
public sealed class PullRecorder(IMetadataStore store, TimeProvider time)
{
    private ConcurrentDictionary<Pull, DateTimeOffset> pending = new();

    /// <summary>Pulls noted and not yet written.</summary>
    public int PendingCount => pending.Count;

    /// <summary>Notes a pull of an image of <paramref name="repository"/> by <paramref name="caller"/> (a role session counts as its role).</summary>
    public void Record(Caller caller, RepositoryKey repository, long repositoryId, Digest digest)
    {
        var now = time.GetUtcNow();
        var key = new Pull(repositoryId, digest, repository.Registry, caller.IdentityArn);
        var map = pending;

        // A hot image is pulled many times a second: a lock-free read skips the write when the noted
        // time is already this recent (a second is far finer than ECR's daily resolution).
        if (!map.TryGetValue(key, out var noted) || now - noted >= TimeSpan.FromSeconds(1))
        {
            map[key] = now;
        }
    }

    /// <summary>Writes every noted pull that no exclusion drops; returns how many images were written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var batch = Interlocked.Exchange(ref pending, new ConcurrentDictionary<Pull, DateTimeOffset>());
        if (batch.IsEmpty)
        {
            return 0;
        }

        try
        {
            var excluded = new Dictionary<RegistryKey, HashSet<string>>();
            foreach (var registry in batch.Keys.Select(k => k.Registry).Distinct())
            {
                excluded[registry] = (await PullTimeExclusions.LoadAsync(store.Repositories, registry, cancellationToken)).Select(e => e.PrincipalArn).ToHashSet(StringComparer.Ordinal);
            }

            var records = batch.Where(p => !excluded[p.Key.Registry].Contains(p.Key.Principal))
                .GroupBy(p => (p.Key.RepositoryId, p.Key.Digest))
                .Select(g => new PullRecord(g.Key.RepositoryId, g.Key.Digest, g.Max(p => p.Value)))
                .ToList();
            if (records.Count > 0)
            {
                await store.Images.RecordPullsAsync(records, cancellationToken);
            }

            return records.Count;
        }
        catch
        {
            // Put them back (unless a newer pull arrived meanwhile) so that the next flush tries again.
            foreach (var (key, at) in batch)
            {
                pending.AddOrUpdate(key, at, (_, newer) => newer > at ? newer : at);
            }

            throw;
        }
    }

    private readonly record struct Pull(long RepositoryId, Digest Digest, RegistryKey Registry, string Principal);
}
