using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>
/// The manifest PUT's checks and inserts, inside <see cref="ImageStore.PutManifestAsync"/>'s write
/// transaction: every blob live and linked and every child present with its declared size, then the
/// manifest, its references and children, and the tag. This is per engine because it is where a
/// manifest commit and a GC claim (<see cref="IBlobIndex.ClaimGarbageAsync"/>) exclude each other,
/// and the engines do that differently: SQLite's single writer lock serialises them, so plain reads
/// suffice; PostgreSQL locks the referenced rows <c>FOR SHARE</c> in digest order, which the claim's
/// <c>FOR UPDATE SKIP LOCKED</c> skips, and lets the tags' unique key decide between two first pushes
/// of one immutable tag.
/// </summary>
internal interface IManifestWriter
{
    /// <summary>
    /// Checks and writes <paramref name="write"/> in <paramref name="s"/>'s transaction (writing nothing
    /// when a check fails). Throws <see cref="ImmutableTagTakenException"/> to roll the transaction back.
    /// </summary>
    Task<PutManifestResult> PutAsync(Session s, ManifestWrite write, CancellationToken cancellationToken);
}

/// <summary>Rolls back a manifest write whose immutable tag another transaction took first.</summary>
internal sealed class ImmutableTagTakenException : Exception;
