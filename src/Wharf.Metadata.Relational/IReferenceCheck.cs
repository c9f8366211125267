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
    /// <summary>Null when every reference holds; else the failed result (the PUT then writes nothing).</summary>
    Task<PutManifestResult?> CheckAsync(Session s, ManifestWrite write, CancellationToken cancellationToken);
}
