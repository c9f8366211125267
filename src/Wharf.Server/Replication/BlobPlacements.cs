using System.Collections.Concurrent;
using Wharf.Core.Primitives;

namespace Wharf.Server.Replication;

/// <summary>
/// What one destination is known to hold, for its pushes: a repository there that has each blob (so a copy
/// into another repository mounts it instead of sending it again: registries check blobs per repository), and
/// which blobs a copy is busy with (so two copies running at once never both send a shared layer). A hint
/// only: a mount the destination refuses falls back to an upload.
/// </summary>
internal sealed class BlobPlacements
{
    // Enough for every blob of a large registry's recent pushes; past it the hints start again from nothing.
    private const int MaxKnown = 50_000;

    private readonly ConcurrentDictionary<Digest, string> knownAt = new();
    private readonly ConcurrentDictionary<Digest, Task> busy = new();

    /// <summary>A repository of the destination that has <paramref name="digest"/>, when one is known.</summary>
    public string? KnownAt(Digest digest) => knownAt.GetValueOrDefault(digest);

    public void Record(Digest digest, string repository)
    {
        if (knownAt.Count >= MaxKnown)
        {
            knownAt.Clear();
        }

        knownAt[digest] = repository;
    }

    /// <summary>Waits until no other copy to this destination is busy with <paramref name="digest"/>; disposing ends this one's turn.</summary>
    public async Task<IDisposable> TakeTurnAsync(Digest digest, CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (!busy.TryAdd(digest, mine.Task))
        {
            if (busy.TryGetValue(digest, out var other))
            {
                await other.WaitAsync(cancellationToken);
            }
        }

        return new Turn(this, digest, mine);
    }

    private sealed class Turn(BlobPlacements owner, Digest digest, TaskCompletionSource done) : IDisposable
    {
        public void Dispose()
        {
            owner.busy.TryRemove(digest, out _);
            done.TrySetResult();
        }
    }
}
