using System.Collections.Concurrent;

namespace Wharf.Core.Security;

/// <summary>
/// What IAM mode keeps between requests of what it read from the metadata store, each entry tagged with the
/// authorization generation (<see cref="Metadata.IIdentityStore.GetAuthorizationGenerationAsync"/>) read before it:
/// an entry is served only to a request that read the same generation, so any write that can change a decision,
/// made by any process or node, ends every entry for the next request (docs/identity.md "Caches and their bounds").
/// At most <see cref="MaxEntries"/>; past that, and at each newer generation, it starts again empty.
/// </summary>
public sealed class AuthorizationCache<TKey, TValue>
    where TKey : notnull
{
    /// <summary>The most entries kept at once.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<TKey, Entry> entries;
    private long newest = long.MinValue;

    public AuthorizationCache(IEqualityComparer<TKey>? comparer = null) => entries = new(comparer);

    public int Count => entries.Count;

    /// <summary>The value read under <paramref name="generation"/>, if one was kept.</summary>
    public bool TryGet(TKey key, long generation, out TValue value)
    {
        if (entries.TryGetValue(key, out var entry) && entry.Generation == generation)
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Keeps <paramref name="value"/>, read after <paramref name="generation"/> was; entries of older generations go.</summary>
    public void Set(TKey key, long generation, TValue value)
    {
        var seen = Volatile.Read(ref newest);
        if (generation < seen)
        {
            return; // read before a write another request has already seen: of no use
        }

        if (generation > seen && Interlocked.CompareExchange(ref newest, generation, seen) == seen)
        {
            entries.Clear();
        }

        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }

        entries[key] = new Entry(generation, value);
    }

    private sealed record Entry(long Generation, TValue Value);
}
