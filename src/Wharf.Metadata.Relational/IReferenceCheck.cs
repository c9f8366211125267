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

    /// <summary>
    /// First locks the tag row the write names (<see cref="ImageStore.LockTagAsync"/>: its digest, null when there is
    /// none), then <see cref="CheckAsync"/>. An engine where a round trip costs something does both in one.
    /// </summary>
    async Task<(string? TaggedDigest, PutManifestResult? Failed)> LockTagAndCheckAsync(Session s, ManifestWrite write, CancellationToken cancellationToken)
    {
        var tagged = await ImageStore.LockTagAsync(s, write, cancellationToken);
        return (tagged, await CheckAsync(s, write, cancellationToken));
    }
}
