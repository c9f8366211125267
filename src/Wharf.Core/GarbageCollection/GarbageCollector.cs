using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.GarbageCollection;

/// <summary>What one garbage-collection run removed.</summary>
public sealed record GcReport(int BlobsDeleted, long BytesFreed, int StagingAreasRemoved);

/// <summary>
/// Online garbage collection (docs/architecture.md "Garbage collection"): finish blobs a previous
/// run left claimed, claim unreferenced blobs untouched for the grace window, delete their bytes
/// (every scope's sealed copy, <see cref="IBlobVault"/>, and any plaintext from before encryption),
/// forget their rows — in batches, never stopping the world. Also removes staging areas that no
/// upload session owns, once two consecutive runs have seen them orphaned (a new upload creates its
/// staging area a moment before its session row).
/// </summary>
public sealed class GarbageCollector(IMetadataStore store, IBlobStore blobs, IBlobVault vault, TimeProvider time, TimeSpan graceWindow)
{
    private const int Batch = 500;

    private readonly Lock gate = new();
    private HashSet<string> suspectedOrphans = new(StringComparer.Ordinal);

    /// <summary>The phases <see cref="RunOnceAsync(IProgress{WorkProgress}?, CancellationToken)"/> reports, in order.</summary>
    public const string FinishingPhase = "finishing claimed blobs", CollectingPhase = "deleting unreferenced blobs", StagingPhase = "checking staging areas";

    public Task<GcReport> RunOnceAsync(CancellationToken cancellationToken) => RunOnceAsync(null, cancellationToken);

    /// <summary>One run; <paramref name="progress"/> hears of each blob deleted and staging area checked (how many there are is not known until they are claimed).</summary>
    public async Task<GcReport> RunOnceAsync(IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        var deleted = 0;
        long bytes = 0;

        progress?.Report(new WorkProgress(FinishingPhase, 0));
        for (var claimed = await store.Blobs.ListClaimedAsync(Batch, cancellationToken); claimed.Count > 0; claimed = await store.Blobs.ListClaimedAsync(Batch, cancellationToken))
        {
            (var n, var b) = await DeleteAsync(claimed, cancellationToken);
            deleted += n;
            bytes += b;
            progress?.Report(new WorkProgress(FinishingPhase, deleted));
        }

        var cutoff = time.GetUtcNow() - graceWindow;
        var finished = deleted;
        progress?.Report(new WorkProgress(CollectingPhase, 0));
        for (var claimed = await store.Blobs.ClaimGarbageAsync(cutoff, Batch, cancellationToken); claimed.Count > 0; claimed = await store.Blobs.ClaimGarbageAsync(cutoff, Batch, cancellationToken))
        {
            (var n, var b) = await DeleteAsync(claimed, cancellationToken);
            deleted += n;
            bytes += b;
            progress?.Report(new WorkProgress(CollectingPhase, deleted - finished));
        }

        return new GcReport(deleted, bytes, await RemoveOrphanedStagingAsync(progress, cancellationToken));
    }

    private async Task<(int Deleted, long Bytes)> DeleteAsync(IReadOnlyList<BlobRecord> claimed, CancellationToken cancellationToken)
    {
        var deleted = 0;
        long bytes = 0;
        foreach (var blob in claimed)
        {
            // Every scope's sealed copy goes with the blob, and so does its plaintext from before encryption.
            var any = false;
            foreach (var copy in await vault.ListSealedAsync(blob.Digest, cancellationToken))
            {
                any |= await vault.DeleteAsync(copy.Scope, blob.Digest, cancellationToken);
            }

            any |= await vault.DeletePlaintextAsync(blob.Digest, cancellationToken);
            if (any)
            {
                deleted++;
                bytes += blob.Size;
            }
        }

        // Rows go only after the bytes: a crash in between leaves claimed rows the next run finishes.
        await store.Blobs.ForgetClaimedAsync(claimed.Select(b => b.Digest).ToList(), cancellationToken);
        return (deleted, bytes);
    }

    private async Task<int> RemoveOrphanedStagingAsync(IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        var orphans = new HashSet<string>(StringComparer.Ordinal);
        var seen = 0;
        progress?.Report(new WorkProgress(StagingPhase, 0));
        await foreach (var id in blobs.ListUploadsAsync(cancellationToken))
        {
            if (!await store.Uploads.ExistsAsync(id, cancellationToken))
            {
                orphans.Add(id);
            }

            progress?.Report(new WorkProgress(StagingPhase, ++seen));
        }

        HashSet<string> previous;
        lock (gate)
        {
            previous = suspectedOrphans;
            suspectedOrphans = orphans;
        }

        var removed = 0;
        foreach (var id in orphans.Where(previous.Contains))
        {
            // Re-check: a session may have appeared since the listing.
            if (!await store.Uploads.ExistsAsync(id, cancellationToken) && await blobs.AbortUploadAsync(id, cancellationToken))
            {
                removed++;
            }
        }

        return removed;
    }
}
