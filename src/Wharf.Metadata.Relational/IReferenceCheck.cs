using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>
/// The manifest PUT's reference check, inside <see cref="ImageStore.PutManifestAsync"/>'s write
/// transaction before anything is written: every blob live and linked to the repository, every child
/// present, each of its declared size. This is per engine because it is where a manifest commit and
/// a GC claim (<see cref="IBlobIndex.ClaimGarbageAsync"/>) exclude each other, and the engines do
/// that differently: SQLite's single writer lock serialises them, so plain reads suffice; PostgreSQL
/// locks the rows it finds <c>FOR SHARE</c> in digest order, which the claim's
/// <c>FOR UPDATE SKIP LOCKED</c> skips, and which keeps a child from being deleted under its index.
/// </summary>
internal interface IReferenceCheck
{
    /// <summary>
    /// True when <see cref="LockCheckAndInsertAsync"/> finds a <see cref="ManifestWrite.Target"/>'s repository itself, with
    /// its other first statements; false when the caller reads the row first (in process, a statement costs no round trip).
    /// </summary>
    bool FindsTarget { get; }

    /// <summary>
    /// The start of the PUT's transaction: locks the tag row the write names (<see cref="ImageStore.LockTag"/>), refuses
    /// an immutable tag already taken, checks the references (every blob live and linked, every child present, each of
    /// its declared size; the failed result when one does not hold, and the PUT then writes nothing), runs
    /// <paramref name="insert"/>, the manifest's <c>INSERT … ON CONFLICT DO NOTHING</c>, and reads the registry's
    /// settings when the write decides its scan from them. SQLite runs them one after another, the insert only after a
    /// pass; PostgreSQL sends them at once (<see cref="LockedWrite.MustRollBack"/> then says that a refusal found the
    /// insert made). Where it <see cref="FindsTarget"/>, a write with a <see cref="ManifestWrite.Target"/> has its
    /// repository read first in the same round trip, found by key in the statements after it, and decided; the write so
    /// resolved is <see cref="LockedWrite.Resolved"/>.
    /// </summary>
    Task<LockedWrite> LockCheckAndInsertAsync(Session s, ManifestWrite write, (string Sql, IEnumerable<(string Name, object? Value)> Parameters) insert, CancellationToken cancellationToken);
}

/// <summary>
/// What <see cref="IReferenceCheck.LockCheckAndInsertAsync"/> found: the digest the tag named before (null when none),
/// the refusal when the PUT must write nothing, whether the manifest row is new, and whether the refusal came after the
/// insert ran, so that the transaction must roll back rather than commit; and, when the write has a
/// <see cref="ManifestWrite.ScanRule"/>, its registry's settings column (<see cref="RepositoryStore.SelectRegistrySettings"/>);
/// and the write with its <see cref="ManifestWrite.Target"/> resolved (<see cref="ImageStore.Resolve"/>), when the check found it.
/// </summary>
internal readonly record struct LockedWrite(string? TaggedDigest, PutManifestResult? Refused, bool Created, bool MustRollBack, string? RegistrySettings = null, ManifestWrite? Resolved = null);
