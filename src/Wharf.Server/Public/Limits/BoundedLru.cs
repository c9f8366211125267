namespace Wharf.Server.Public.Limits;

/// <summary>
/// A map that holds at most <see cref="Capacity"/> entries, dropping the least recently used one to make
/// room: what the limits key by (source addresses, accounts) comes from clients, and a client spraying
/// addresses must not grow a node's memory without bound. Not thread-safe: its owner locks.
/// </summary>
internal sealed class BoundedLru<TKey, TValue>
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> entries;

    // First: the most recently used; last: the next to go.
    private readonly LinkedList<(TKey Key, TValue Value)> byUse = new();

    public BoundedLru(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        entries = new Dictionary<TKey, LinkedListNode<(TKey, TValue)>>(comparer);
    }

    public int Capacity { get; }

    public int Count => entries.Count;

    /// <summary>Finds <paramref name="key"/> and marks it used.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (entries.TryGetValue(key, out var node))
        {
            byUse.Remove(node);
            byUse.AddFirst(node);
            value = node.Value.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Adds or replaces <paramref name="key"/>'s value, marked used; drops the least recently used entry when full.</summary>
    public void Set(TKey key, TValue value)
    {
        if (entries.TryGetValue(key, out var node))
        {
            byUse.Remove(node);
            node.Value = (key, value);
            byUse.AddFirst(node);
            return;
        }

        if (entries.Count >= Capacity)
        {
            RemoveOldest();
        }

        entries[key] = byUse.AddFirst((key, value));
    }

    public bool Remove(TKey key)
    {
        if (!entries.Remove(key, out var node))
        {
            return false;
        }

        byUse.Remove(node);
        return true;
    }

    /// <summary>The least recently used entry, if any.</summary>
    public bool TryPeekOldest(out TKey key, out TValue value)
    {
        if (byUse.Last is { } last)
        {
            (key, value) = last.Value;
            return true;
        }

        (key, value) = (default!, default!);
        return false;
    }

    public void RemoveOldest()
    {
        if (byUse.Last is { } last)
        {
            entries.Remove(last.Value.Key);
            byUse.RemoveLast();
        }
    }
}
