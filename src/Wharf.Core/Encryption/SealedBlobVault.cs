using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.Encryption;

/// <summary>How blobs are kept at rest.</summary>
/// <param name="Seal">
/// Whether new blobs are sealed (the default). Off, uploads are committed as plaintext at their digest, as before
/// encryption; sealed copies already written are still read.
/// </param>
public sealed record BlobVaultSettings(bool Seal)
{
    public static readonly BlobVaultSettings Default = new(true);
}

/// <summary>
/// <see cref="IBlobVault"/> over an <see cref="IBlobStore"/> and the metadata store's sealed copies
/// (docs/encryption.md). Sealed copies are recorded once their bytes are committed and never change, so this node
/// remembers the ones it has seen (bounded) and a pull of a known blob costs no metadata round trip beyond the link
/// check the caller makes anyway; a remembered copy whose bytes are gone is looked up again.
/// </summary>
public sealed class SealedBlobVault(IBlobStore blobs, IMetadataStore store, IDataKeys keys, BlobVaultSettings settings, TimeProvider time) : IBlobVault
{
    private const int RememberedCopies = 16_384;

    private readonly ConcurrentDictionary<(string Scope, Digest Digest), SealedCopy> copies = new();
    private readonly WrappedKeyCache wrappedKeys = new();

    /// <summary>The blob store name of a scope's sealed copy of a digest written by one upload (digest-shaped, so any store keeps it).</summary>
    public static Digest AddressOf(BlobScope scope, Digest digest, string uploadId)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var name = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"wharf-sealed/v1\n{scope.Id}\n{digest}\n{uploadId}"));
        return Digest.FromHash(DigestAlgorithm.Sha256, SHA256.HashData(name));
    }

    public async Task<BlobStat?> StatAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken)
    {
        var copy = await FindSealedAsync(scope, digest, cancellationToken);
        return copy is not null ? new BlobStat(digest, copy.Size, copy.CreatedAt) : await blobs.StatAsync(digest, cancellationToken);
    }

    public async Task<SealedCopy?> FindSealedAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (copies.TryGetValue((scope.Id, digest), out var known))
        {
            return known;
        }

        var copy = await store.SealedCopies.GetAsync(digest, scope.Id, cancellationToken);
        if (copy is not null)
        {
            Remember(copy);
        }

        return copy;
    }

    public async Task<Stream?> OpenReadAsync(BlobScope scope, Digest digest, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var copy = await FindSealedAsync(scope, digest, cancellationToken);
            if (copy is not null)
            {
                if (offset > copy.Size)
                {
                    throw new ArgumentOutOfRangeException(nameof(offset), $"Offset {offset} is beyond the blob's {copy.Size} bytes.");
                }

                var count = Math.Min(length ?? long.MaxValue, copy.Size - offset);
                var stream = await UnsealingStream.OpenAsync(
                    Layout(copy), keys, wrappedKeys, (o, l, ct) => blobs.OpenReadAsync(copy.Address, o, l, ct), offset, count, cancellationToken);
                if (stream is not null)
                {
                    return stream;
                }

                // Remembered, but deleted since (by another node): look again.
                Forget(copy);
                continue;
            }

            var plaintext = await blobs.OpenReadAsync(digest, offset, length, cancellationToken);
            if (plaintext is not null)
            {
                return plaintext;
            }

            // The migration may have sealed it and removed the plaintext between the two reads: look once more.
        }

        return null;
    }

    public async Task<Uri?> GetDownloadUrlAsync(BlobScope scope, Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) =>
        await FindSealedAsync(scope, digest, cancellationToken) is null ? await blobs.GetDownloadUrlAsync(digest, lifetime, cancellationToken) : null;

    public async Task<bool> DeleteAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var copy = await store.SealedCopies.GetAsync(digest, scope.Id, cancellationToken);
        copies.TryRemove((scope.Id, digest), out _);
        if (copy is null || !await store.SealedCopies.DeleteAsync(digest, scope.Id, cancellationToken))
        {
            return false;
        }

        await blobs.DeleteAsync(copy.Address, cancellationToken);
        return true;
    }

    public Task<bool> DeletePlaintextAsync(Digest digest, CancellationToken cancellationToken) => blobs.DeleteAsync(digest, cancellationToken);

    public IAsyncEnumerable<SealedCopy> ListSealedAsync(CancellationToken cancellationToken) => store.SealedCopies.ListAllAsync(cancellationToken);

    public Task<IReadOnlyList<SealedCopy>> ListSealedAsync(Digest digest, CancellationToken cancellationToken) => store.SealedCopies.ListAsync(digest, cancellationToken);

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken) => blobs.CreateUploadAsync(uploadId, cancellationToken);

    public async Task<UploadChunk> WriteUploadChunkAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chain, Stream source, long? length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var plainOffset = UploadChunk.ThrowIfNotChain(chain);
        if (!settings.Seal)
        {
            return await blobs.WriteUploadChunkAsync(uploadId, plainOffset, source, length, cancellationToken);
        }

        var sealedChain = ToSealed(chain);
        var sealedOffset = sealedChain.Count == 0 ? 0 : sealedChain[^1].End;
        await using var sealing = new SealingStream(source, keys, scope, uploadId, plainOffset);
        var sealedLength = length is { } declared ? SealedFormat.SealedLength(declared) : (long?)null;
        var chunk = await blobs.WriteUploadChunkAsync(uploadId, sealedOffset, sealing, sealedLength, cancellationToken);
        if (chunk.Length != SealedFormat.SealedLength(sealing.PlaintextRead))
        {
            throw new InvalidDataException($"The store kept {chunk.Length} sealed bytes for {sealing.PlaintextRead} plaintext bytes.");
        }

        return new UploadChunk(plainOffset, plainOffset + sealing.PlaintextRead, chunk.WriteId);
    }

    public async Task<Stream> OpenUploadReadAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var end = UploadChunk.ThrowIfNotChain(chunks);
        if (!settings.Seal)
        {
            return await blobs.OpenUploadReadAsync(uploadId, chunks, offset, cancellationToken);
        }

        if (offset < 0 || offset > end)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Offset {offset} is outside the staged {end} bytes.");
        }

        var sealedChain = ToSealed(chunks);
        var layout = new SealedLayout(scope, uploadId, [.. chunks.Select(c => c.Offset)], end, null);
        return await UnsealingStream.OpenAsync(
            layout, keys, wrappedKeys, async (o, l, ct) => await blobs.OpenUploadReadAsync(uploadId, sealedChain, o, ct), offset, end - offset, cancellationToken)
            ?? throw new KeyNotFoundException($"Upload {uploadId} has no staged bytes.");
    }

    public async Task CommitUploadAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var size = UploadChunk.ThrowIfNotChain(chunks);
        if (!settings.Seal)
        {
            await blobs.CommitUploadAsync(uploadId, chunks, digest, cancellationToken);
            return;
        }

        // Asked of the store, never of what this node remembers: garbage collection on another node may have deleted a
        // remembered copy (with its blob row) before this upload reserved the blob anew, and dropping these bytes for a
        // copy that is gone would leave the blob without content.
        if (await store.SealedCopies.GetAsync(digest, scope.Id, cancellationToken) is { } existing)
        {
            // Deduplication within the scope: the copy there is the same plaintext (its digest was verified too).
            Remember(existing);
            if (!await blobs.UploadExistsAsync(uploadId, cancellationToken))
            {
                throw new KeyNotFoundException($"Upload {uploadId} does not exist.");
            }

            await blobs.AbortUploadAsync(uploadId, cancellationToken);
            return;
        }

        // Bytes first, then the record: a crash in between leaves bytes no record names (collected), never a
        // record without bytes. The address is the upload's own, so two uploads racing never share one object.
        var address = AddressOf(scope, digest, uploadId);
        await blobs.CommitUploadAsync(uploadId, ToSealed(chunks), address, cancellationToken);
        var copy = new SealedCopy(digest, scope.Id, address, size, [.. chunks.Select(c => c.Offset)], uploadId, time.GetUtcNow());
        if (await store.SealedCopies.AddAsync(copy, cancellationToken))
        {
            Remember(copy);
            return;
        }

        // Another upload of the same digest was recorded first: keep its copy, drop ours.
        await blobs.DeleteAsync(address, cancellationToken);
    }

    public Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken) => blobs.AbortUploadAsync(uploadId, cancellationToken);

    public async Task<SealResult> SealPlaintextAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (!settings.Seal)
        {
            return SealResult.Disabled;
        }

        if (await store.SealedCopies.GetAsync(digest, scope.Id, cancellationToken) is not null)
        {
            return SealResult.AlreadySealed;
        }

        await using var plaintext = await blobs.OpenReadAsync(digest, 0, null, cancellationToken);
        if (plaintext is null)
        {
            return SealResult.Missing;
        }

        var uploadId = "seal-" + UploadChunk.NewWriteId() + UploadChunk.NewWriteId();
        await blobs.CreateUploadAsync(uploadId, cancellationToken);
        try
        {
            using var hash = IncrementalHash.CreateHash(digest.Algorithm == DigestAlgorithm.Sha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA512);
            await using var hashing = new HashingStream(plaintext, hash);
            var chunk = await WriteUploadChunkAsync(scope, uploadId, [], hashing, null, cancellationToken);
            if (Digest.FromHash(digest.Algorithm, hash.GetCurrentHash()) != digest)
            {
                throw new InvalidDataException($"The plaintext blob at {digest} does not hash to its digest; it was not sealed.");
            }

            await CommitUploadAsync(scope, uploadId, chunk.Length == 0 ? [] : [chunk], digest, cancellationToken);
            return SealResult.Sealed;
        }
        catch
        {
            await blobs.AbortUploadAsync(uploadId, CancellationToken.None);
            throw;
        }
    }

    private static SealedLayout Layout(SealedCopy copy)
    {
        var layout = new SealedLayout(copy.Scope, copy.UploadId, copy.Runs, copy.Size, copy.Address.ToString());
        layout.Validate();
        return layout;
    }

    /// <summary>The staged chain in sealed offsets: each plaintext chunk is one run (header, segments and tags).</summary>
    private static List<UploadChunk> ToSealed(IReadOnlyList<UploadChunk> chunks)
    {
        var sealedChunks = new List<UploadChunk>(chunks.Count);
        long offset = 0;
        foreach (var chunk in chunks)
        {
            var end = offset + SealedFormat.SealedLength(chunk.Length);
            sealedChunks.Add(new UploadChunk(offset, end, chunk.WriteId));
            offset = end;
        }

        return sealedChunks;
    }

    private void Remember(SealedCopy copy)
    {
        if (copies.Count >= RememberedCopies)
        {
            copies.Clear();
        }

        copies[(copy.ScopeId, copy.Digest)] = copy;
    }

    private void Forget(SealedCopy copy) => copies.TryRemove((copy.ScopeId, copy.Digest), out _);

    /// <summary>Feeds what is read through it into a hash (the migration verifies the plaintext it seals).</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            hash.AppendData(buffer[..read]);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            hash.AppendData(buffer.Span[..read]);
            return read;
        }
    }
}
