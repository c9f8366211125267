using Wharf.Core.Primitives;

namespace Wharf.Core.Encryption;

/// <summary>The sealed copies of blobs, one per (digest, scope) (migration 0022).</summary>
public interface ISealedCopyStore
{
    /// <summary>The scope's sealed copy of <paramref name="digest"/>, or null.</summary>
    Task<SealedCopy?> GetAsync(Digest digest, string scopeId, CancellationToken cancellationToken);

    /// <summary>Records a sealed copy whose bytes are committed; false (and nothing changed) when the scope already has one.</summary>
    Task<bool> AddAsync(SealedCopy copy, CancellationToken cancellationToken);

    /// <summary>Forgets the scope's sealed copy; false when there was none.</summary>
    Task<bool> DeleteAsync(Digest digest, string scopeId, CancellationToken cancellationToken);

    /// <summary>Every scope's sealed copy of <paramref name="digest"/>.</summary>
    Task<IReadOnlyList<SealedCopy>> ListAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Every sealed copy, by digest then scope.</summary>
    IAsyncEnumerable<SealedCopy> ListAllAsync(CancellationToken cancellationToken);
}
