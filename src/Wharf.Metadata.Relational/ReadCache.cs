using System.Collections.Concurrent;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>
/// A reading of whether a database has changed: two equal readings mean no transaction committed to it in between,
/// by this process or any other (on PostgreSQL: none that committed more than the watch's bound before the second
/// reading). <see cref="IChangeWatch"/> gives it; an engine without a cheap reading has none.
/// </summary>
internal readonly record struct ChangeStamp(ulong A, ulong B, ulong C, ulong D, ulong E, ulong F);

/// <summary>The engine's cheap "has anything committed since" reading (<see cref="SqlDialect.Changes"/>): exact, or bounded in time.</summary>
internal interface IChangeWatch
{
    /// <summary>
    /// The database's change stamp now, without a statement; false when there is none to read (not yet armed, closed,
    /// or not in a mode that keeps one), in which case nothing may be served from a cache keyed by it.
    /// </summary>
    bool TryRead(out ChangeStamp stamp);
}

/// <summary>
/// What the data plane's two hottest reads returned (<see cref="ImageStore.FindManifestAsync"/> and
/// <see cref="BlobIndex.FindLinkedBlobAsync"/>: the repository row and its manifest or linked blob), kept while the
/// database has not changed: an entry is served only when the engine's change stamp (<see cref="IChangeWatch"/>, taken
/// before the read that filled it) and this process's write count (<see cref="Database.Writes"/>) both equal what they
/// were then. On SQLite any commit, by this process, <c>wharf admin</c>, <c>wharf gc</c> or another server on the
/// same file, changes the stamp, so the next request reads the database again: the cache is exact, not bounded in
/// time. On PostgreSQL the stamp is exact for this process's writes and bounded in time for everyone else's
/// (PgChangeWatch: another node's commit is seen within its bound). It replaces only the read: authorisation, the KMS
/// key check, pull recording and pull-through run as before. Bounded to <see cref="MaxEntries"/> entries and
/// <see cref="MaxBytes"/> bytes of manifests; past either, a read is served but not kept. Without a stamp (SQLite not
/// in WAL mode, PostgreSQL with the cache off or its listener down) nothing is kept.
/// </summary>
internal sealed class ReadCache(Database database, IChangeWatch watch, int maxEntries = ReadCache.MaxEntries, long maxBytes = ReadCache.MaxBytes)
{
    internal const int MaxEntries = 4096;
    internal const long MaxBytes = 16L << 20;

    // What an entry costs beside a manifest's bytes (the key, the records, their strings), for the byte bound.
    internal const int EntryOverhead = 512;

    private readonly ConcurrentDictionary<ReadKey, Entry> _entries = new();
    private readonly Lock _lock = new();
    private Stamp _current;
    private long _bytes;

    /// <summary>What a key reads: a manifest by tag or by digest, or a blob linked to the repository.</summary>
    internal enum Kind : byte
    {
        ManifestByTag,
        ManifestByDigest,
        LinkedBlob,
    }

    /// <summary>Entries kept (for tests).</summary>
    internal int Count => _entries.Count;

    /// <summary>Bytes kept, by <see cref="EntryOverhead"/> and the manifests' lengths (for tests).</summary>
    internal long Bytes => Volatile.Read(ref _bytes);

    /// <summary>
    /// The value kept for <paramref name="key"/> under the database's stamp now, and that stamp (null: the engine has
    /// none to read, so read and do not keep). Taken before the read whose result is <see cref="Add"/>ed under it.
    /// </summary>
    public bool TryGet(in ReadKey key, out Stamp? stamp, out object? value)
    {
        value = null;
        var writes = database.Writes;
        if (!watch.TryRead(out var changes))
        {
            stamp = null;
            return false;
        }

        var now = new Stamp(changes, writes);
        stamp = now;
        if (_entries.TryGetValue(key, out var entry) && entry.Stamp == now)
        {
            value = entry.Value;
            return true;
        }

        return false;
    }

    /// <summary>Keeps <paramref name="value"/>, read after <paramref name="stamp"/> was taken, unless the database has changed since or a bound is reached.</summary>
    public void Add(in ReadKey key, Stamp stamp, object? value, long size)
    {
        lock (_lock)
        {
            if (stamp != _current)
            {
                // Entries of an older stamp can never be served again; a read that started before the latest change
                // is not kept (its stamp is no longer the database's).
                if (!watch.TryRead(out var now) || new Stamp(now, database.Writes) != stamp)
                {
                    return;
                }

                _entries.Clear();
                _bytes = 0;
                _current = stamp;
            }

            var cost = size + EntryOverhead;
            if (_entries.TryGetValue(key, out var old))
            {
                _bytes -= old.Bytes;
            }
            else if (_entries.Count >= maxEntries)
            {
                return;
            }

            if (_bytes + cost > maxBytes)
            {
                if (old is not null)
                {
                    _entries.TryRemove(key, out _);
                }

                return;
            }

            _entries[key] = new Entry(stamp, value, cost);
            Volatile.Write(ref _bytes, _bytes + cost);
        }
    }

    /// <summary>A read's key: what it reads, the repository, and the tag or the digest's hex (its length tells the algorithm).</summary>
    internal readonly record struct ReadKey(Kind Kind, RepositoryKey Repository, string Reference);

    /// <summary>The engine's stamp and this process's write count, both taken before a read.</summary>
    internal readonly record struct Stamp(ChangeStamp Changes, long Writes);

    private sealed record Entry(Stamp Stamp, object? Value, long Bytes);
}
