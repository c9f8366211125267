using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Storage.S3;

/// <summary>
/// Uploads as chunk objects. Each write is one object at <c>uploads/&lt;id&gt;/&lt;start offset&gt;.&lt;write id&gt;</c>
/// under a fresh write id, so two writes at one offset — a retry, or two nodes racing — never replace
/// each other, and no write depends on what this node saw before. A chunk whose size the request
/// declared above 8 MiB is streamed as one PUT (no buffer; a PUT appears whole or not at all); one that
/// fits a buffer (declared up to 8 MiB, or of unknown size up to one 16 MiB part) is one PUT from a
/// pooled buffer; one of unknown size beyond a part is a multipart upload with two pooled parts
/// uploading while the next fills. Reads and commits take the chain the caller recorded
/// (the chunks whose offset advance won), never whatever was stored last at an offset. A commit
/// assembles the blob server-side: one chunk is copied; more become a multipart upload where chunks of
/// at least 5 MiB are copied as parts (four at a time) and smaller ones are read and coalesced into
/// parts of 5 MiB (S3's minimum for every part but the last), so chunks of any size, down to one byte,
/// commit.
/// </summary>
public sealed partial class S3BlobStore
{
    // Parts of 16 MiB for a body of unknown size: on Ceph RGW 16 MiB parts moved a docker-shaped push
    // about 15 % faster than 8 MiB ones (bench/RESULTS.md, "Blobs on S3").
    private const int PartSize = 16 * 1024 * 1024;

    // A body declared bigger than this is streamed as one PUT; a smaller one is buffered (one PUT
    // that can be retried). A body of unknown size is read into a buffer this big first, and only one
    // that outgrows it takes a part buffer.
    private const int StreamAbove = 8 * 1024 * 1024;
    private const int FirstRead = 1024 * 1024;
    private const int MinPartSize = 5 * 1024 * 1024;
    private const long MaxCopySize = 5L * 1024 * 1024 * 1024;

    // One part filling from the request while two upload: 48 MiB per chunk write of unknown size at most.
    private const int BuffersPerWrite = 3;

    // A commit's server-side part copies run four at a time: Ceph RGW copies part data rather than
    // referencing it, and one copy at a time left the commit waiting.
    private const int CopiesAtOnce = 4;
    private const string CreatedMarker = "created";

    // Written while a commit's multipart upload is open, so that aborting the staging area also
    // aborts a commit a crashed node left half-done at the blob key.
    private const string CommitMarker = "commit";

    // Part buffers come from a pool of their own: the shared pool parks returned arrays in the
    // returning thread's local slot, where the next request (on another thread) cannot find them.
    // It keeps at most 8 arrays of each size (of 16 MiB: 128 MiB, a few writes' worth); more in use
    // at once are allocated and dropped on return.
    private static readonly ArrayPool<byte> PartBuffers = ArrayPool<byte>.Create(PartSize, 8);

    public async Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var prefix = UploadPrefix(uploadId);
        await PutBytesAsync(prefix + CreatedMarker, [], 0, cancellationToken);
    }

    public async Task<bool> UploadExistsAsync(string uploadId, CancellationToken cancellationToken)
    {
        var prefix = UploadPrefix(uploadId);
        return await HeadAsync(prefix + CreatedMarker, cancellationToken) is not null;
    }

    public async Task<UploadChunk> WriteUploadChunkAsync(string uploadId, long offset, Stream source, long? length, CancellationToken cancellationToken)
    {
        var prefix = UploadPrefix(uploadId);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentNullException.ThrowIfNull(source);
        if (length is { } declared)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(declared, nameof(length));
        }

        if (!await UploadExistsAsync(uploadId, cancellationToken))
        {
            throw new KeyNotFoundException($"Upload '{uploadId}' does not exist.");
        }

        var chunk = new UploadChunk(offset, offset, UploadChunk.NewWriteId());
        var key = ChunkKey(prefix, chunk);
        if (length is > StreamAbove and <= MaxCopySize)
        {
            // A size known up front and more than a buffer's worth: one streamed PUT, no buffer.
            await _data.PutStreamAsync(key, source, length.Value, cancellationToken);
            return chunk with { End = offset + length.Value };
        }

        // Otherwise the body is read into a buffer: for a declared size, one byte bigger than it (so a
        // body that holds more is seen); for an unknown one, a small buffer first, since most such
        // bodies (a config, a small layer) fit in it. Only a body that outgrows it takes a part buffer.
        var capacity = length is { } declaredSize ? (int)Math.Min(declaredSize + 1, PartSize) : FirstRead;
        var buffer = PartBuffers.Rent(capacity);
        int filled;
        try
        {
            filled = await source.ReadAtLeastAsync(buffer.AsMemory(0, capacity), capacity, throwOnEndOfStream: false, cancellationToken);
            if (filled == capacity && capacity < PartSize)
            {
                var part = PartBuffers.Rent(PartSize);
                buffer.AsSpan(0, filled).CopyTo(part);
                PartBuffers.Return(buffer);
                buffer = part;
                filled += await source.ReadAtLeastAsync(buffer.AsMemory(filled, PartSize - filled), PartSize - filled, throwOnEndOfStream: false, cancellationToken);
            }
        }
        catch
        {
            PartBuffers.Return(buffer);
            throw;
        }

        if (filled == PartSize)
        {
            return chunk with { End = offset + await WriteMultipartChunkAsync(key, buffer, source, length, cancellationToken) };
        }

        try
        {
            ThrowIfNotDeclared(filled, length);

            // A chunk that fits one buffer is one PUT: it appears whole or not at all.
            if (filled > 0)
            {
                await PutBytesAsync(key, buffer, filled, cancellationToken);
            }

            return chunk with { End = offset + filled };
        }
        finally
        {
            PartBuffers.Return(buffer);
        }
    }

    public async Task<Stream> OpenUploadReadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken)
    {
        var prefix = UploadPrefix(uploadId);
        var length = UploadChunk.ThrowIfNotChain(chunks);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, length);
        var staging = await ReadStagingAsync(uploadId, prefix, requireCreated: true, cancellationToken);
        var segments = Segments(uploadId, prefix, staging, chunks);

        // Chunks wholly before the offset are never fetched; the one it falls in is read from inside.
        var skipped = segments.Count;
        for (var i = 0; i < chunks.Count; i++)
        {
            if (chunks[i].End > offset)
            {
                segments[i] = segments[i] with { Start = offset - chunks[i].Offset };
                skipped = i;
                break;
            }
        }

        segments.RemoveRange(0, skipped);
        return segments.Count == 0 ? Stream.Null : new ChunkChainStream(segments, OpenSegmentAsync);
    }

    public async Task CommitUploadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken)
    {
        var prefix = UploadPrefix(uploadId);
        UploadChunk.ThrowIfNotChain(chunks);
        var staging = await ReadStagingAsync(uploadId, prefix, requireCreated: false, cancellationToken);
        var target = BlobKey(digest);

        // Content addressing: an existing blob of this digest already holds these very bytes. That is
        // also how a commit repeated after its first run copied the blob finds it done, even when that
        // run (on a node that died, or a request a balancer passed to another node) already deleted
        // part or all of the staging area.
        if (await HeadAsync(target, cancellationToken) is null)
        {
            if (!staging.HasCreatedMarker)
            {
                throw new KeyNotFoundException($"Upload '{uploadId}' does not exist.");
            }

            var segments = Segments(uploadId, prefix, staging, chunks);
            if (segments.Count == 0)
            {
                await PutBytesAsync(target, [], 0, cancellationToken);
            }
            else if (segments is [{ IsWholeObject: true, Count: <= MaxCopySize } only])
            {
                await CallAsync(ct => _client.CopyObjectAsync(
                    new CopyObjectRequest { SourceBucket = _bucket, SourceKey = only.Key, DestinationBucket = _bucket, DestinationKey = target },
                    ct), cancellationToken);
            }
            else
            {
                staging.Keys.Add(prefix + CommitMarker);
                await CommitMultipartAsync(prefix, segments, target, cancellationToken);
            }
        }

        // Two commits of one digest racing both write the same bytes; S3 keeps one whole object.
        // Chunks nobody recorded (a failed request's, a race loser's) go with the rest of the staging.
        await DeleteKeysAsync(staging.Keys, cancellationToken);
    }

    public async Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var prefix = UploadPrefix(uploadId);
        var staging = await ReadStagingAsync(uploadId, prefix, requireCreated: false, cancellationToken);
        var found = staging.Keys.Count > 0;
        if (staging.HasCommitMarker && await ReadCommitMarkerAsync(prefix + CommitMarker, cancellationToken) is var (blobKey, commitId))
        {
            await AbortMultipartAsync(blobKey, commitId, cancellationToken);
        }

        await foreach (var (key, multipartId) in ListMultipartUploadsAsync(prefix, cancellationToken))
        {
            await AbortMultipartAsync(key, multipartId, cancellationToken);
            found = true;
        }

        await DeleteKeysAsync(staging.Keys, cancellationToken);
        return found;
    }

    public async IAsyncEnumerable<string> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var uploadsRoot = _root + "uploads/";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = uploadsRoot, Delimiter = "/" };
        while (true)
        {
            var page = await CallAsync(ct => _client.ListObjectsV2Async(request, ct), cancellationToken);
            foreach (var folder in page.CommonPrefixes ?? [])
            {
                var id = folder[uploadsRoot.Length..].TrimEnd('/');
                if (UploadIds.IsValid(id) && seen.Add(id))
                {
                    yield return id;
                }
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }

        // A chunk write or commit that died mid-way leaves only an unfinished multipart upload.
        await foreach (var (key, _) in ListMultipartUploadsAsync(uploadsRoot, cancellationToken))
        {
            var rest = key.AsSpan(uploadsRoot.Length);
            var slash = rest.IndexOf('/');
            var id = (slash < 0 ? rest : rest[..slash]).ToString();
            if (UploadIds.IsValid(id) && seen.Add(id))
            {
                yield return id;
            }
        }
    }

    /// <summary>
    /// Streams a chunk of more than one part as a multipart upload: <paramref name="first"/> (a full
    /// pooled part, owned from here on) and then the rest of <paramref name="source"/>, with at most
    /// <see cref="BuffersPerWrite"/> parts in memory. Returns the chunk's length. A failure aborts the
    /// multipart upload; one a crash leaves is listed by <see cref="ListUploadsAsync"/> and aborted by
    /// garbage collection.
    /// </summary>
    private async Task<long> WriteMultipartChunkAsync(string key, byte[] first, Stream source, long? length, CancellationToken cancellationToken)
    {
        string multipartId;
        try
        {
            multipartId = (await CallAsync(ct => _client.InitiateMultipartUploadAsync(
                new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key }, ct), cancellationToken)).UploadId;
        }
        catch
        {
            PartBuffers.Return(first);
            throw;
        }

        var uploads = new List<Task<PartETag>>();
        byte[]? buffer = first;
        var filled = PartSize;
        long total = 0;
        try
        {
            while (true)
            {
                uploads.Add(UploadPooledPartAsync(key, multipartId, uploads.Count + 1, buffer, filled, cancellationToken));
                buffer = null;
                total += filled;
                if (length is { } declared && total > declared)
                {
                    // Refused as soon as it shows, not after the rest of a longer body.
                    ThrowIfNotDeclared(total, length);
                }

                if (filled < PartSize)
                {
                    break;
                }

                // Wait for the oldest upload before filling another buffer: memory stays bounded
                // and a slow bucket slows the client down instead of piling parts up here.
                if (uploads.Count >= BuffersPerWrite - 1)
                {
                    await uploads[^(BuffersPerWrite - 1)];
                }

                buffer = PartBuffers.Rent(PartSize);
                filled = await source.ReadAtLeastAsync(buffer.AsMemory(0, PartSize), PartSize, throwOnEndOfStream: false, cancellationToken);
                if (filled == 0)
                {
                    break;
                }
            }

            var parts = await Task.WhenAll(uploads);
            ThrowIfNotDeclared(total, length);
            await CompleteMultipartAsync(key, multipartId, [.. parts], cancellationToken);
            return total;
        }
        catch
        {
            // Parts still uploading own their buffers until they finish.
            try
            {
                await Task.WhenAll(uploads);
            }
            catch (Exception)
            {
                // The first failure is the one rethrown below.
            }

            await AbortMultipartQuietlyAsync(key, multipartId);
            throw;
        }
        finally
        {
            if (buffer is not null)
            {
                PartBuffers.Return(buffer);
            }
        }
    }

    private static void ThrowIfNotDeclared(long received, long? length)
    {
        if (length is { } declared && received != declared)
        {
            throw new InvalidDataException($"the body held {received} bytes, not the {declared} declared");
        }
    }

    private async Task<PartETag> UploadPooledPartAsync(string key, string multipartId, int partNumber, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        try
        {
            return await UploadPartAsync(key, multipartId, partNumber, buffer, count, cancellationToken);
        }
        finally
        {
            PartBuffers.Return(buffer);
        }
    }

    private async Task CommitMultipartAsync(string prefix, IReadOnlyList<ChunkSegment> segments, string target, CancellationToken cancellationToken)
    {
        var multipartId = (await CallAsync(ct => _client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = _bucket, Key = target }, ct), cancellationToken)).UploadId;
        var parts = new List<Task<PartETag>>();
        byte[]? pending = null;
        var pendingCount = 0;
        try
        {
            var marker = Encoding.UTF8.GetBytes($"{target}\n{multipartId}");
            await PutBytesAsync(prefix + CommitMarker, marker, marker.Length, cancellationToken);
            foreach (var segment in segments)
            {
                long start = 0;
                var count = segment.Count;
                while (count > 0)
                {
                    if (pendingCount == 0 && count >= MinPartSize)
                    {
                        // Copied server-side, in pieces of at most 5 GiB (S3's limit for one copied part).
                        var pieces = (count + MaxCopySize - 1) / MaxCopySize;
                        var pieceSize = (count + pieces - 1) / pieces;
                        for (var first = start; first < start + count; first += pieceSize)
                        {
                            var last = Math.Min(first + pieceSize, start + count) - 1;

                            if (parts.Count >= CopiesAtOnce)
                            {
                                await parts[^CopiesAtOnce];
                            }

                            parts.Add(CopyPartAsync(segment.Key, target, multipartId, parts.Count + 1, first, last, cancellationToken));
                        }

                        count = 0;
                    }
                    else
                    {
                        // Small chunks (and the head of a large one that completes a small part) are
                        // read into a 5 MiB part: every part but the last must be at least that big.
                        pending ??= PartBuffers.Rent(MinPartSize);
                        var take = (int)Math.Min(count, MinPartSize - pendingCount);
                        await ReadRangeAsync(segment.Key, start, pending.AsMemory(pendingCount, take), cancellationToken);
                        pendingCount += take;
                        start += take;
                        count -= take;
                        if (pendingCount == MinPartSize)
                        {
                            parts.Add(Task.FromResult(await UploadPartAsync(target, multipartId, parts.Count + 1, pending, pendingCount, cancellationToken)));
                            pendingCount = 0;
                        }
                    }
                }
            }

            if (pendingCount > 0)
            {
                parts.Add(Task.FromResult(await UploadPartAsync(target, multipartId, parts.Count + 1, pending!, pendingCount, cancellationToken)));
            }

            await CompleteMultipartAsync(target, multipartId, [.. await Task.WhenAll(parts)], cancellationToken);
        }
        catch
        {
            // Copies still running finish (or fail) before the abort, which they would otherwise outlive.
            try
            {
                await Task.WhenAll(parts);
            }
            catch (Exception)
            {
                // The first failure is the one rethrown below.
            }

            await AbortMultipartQuietlyAsync(target, multipartId);
            throw;
        }
        finally
        {
            if (pending is not null)
            {
                PartBuffers.Return(pending);
            }
        }
    }

    private async Task<PartETag> CopyPartAsync(string source, string target, string multipartId, int partNumber, long first, long last, CancellationToken cancellationToken)
    {
        var response = await CallAsync(ct => _client.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = _bucket,
            SourceKey = source,
            DestinationBucket = _bucket,
            DestinationKey = target,
            UploadId = multipartId,
            PartNumber = partNumber,
            FirstByte = first,
            LastByte = last,
        }, ct), cancellationToken);
        return new PartETag(partNumber, response.ETag);
    }

    private async Task<PartETag> UploadPartAsync(string key, string multipartId, int partNumber, byte[] buffer, int count, CancellationToken cancellationToken) =>
        new(partNumber, await _data.PutAsync(key, buffer.AsMemory(0, count), multipartId, partNumber, cancellationToken));

    private async Task CompleteMultipartAsync(string key, string multipartId, List<PartETag> parts, CancellationToken cancellationToken) =>
        await CallAsync(ct => _client.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = multipartId, PartETags = parts }, ct), cancellationToken);

    private async Task AbortMultipartAsync(string key, string multipartId, CancellationToken cancellationToken) =>
        await CallAsync(async ct =>
        {
            try
            {
                return await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = multipartId }, ct);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return null; // already completed or aborted
            }
        }, cancellationToken);

    /// <summary>Best effort after a failure: what is left is listed and aborted by garbage collection.</summary>
    private async Task AbortMultipartQuietlyAsync(string key, string multipartId)
    {
        try
        {
            await AbortMultipartAsync(key, multipartId, CancellationToken.None);
        }
        catch (Exception e) when (e is BlobStoreUnavailableException or AmazonS3Exception)
        {
            // Garbage collection aborts what is left.
        }
    }

    private async Task PutBytesAsync(string key, byte[] buffer, int count, CancellationToken cancellationToken) =>
        await _data.PutAsync(key, buffer.AsMemory(0, count), null, 0, cancellationToken);

    private async Task ReadRangeAsync(string key, long start, Memory<byte> destination, CancellationToken cancellationToken)
    {
        await using var stream = await _data.GetAsync(key, start, start + destination.Length - 1, cancellationToken)
            ?? throw new KeyNotFoundException($"Staged chunk '{key}' vanished while it was read.");
        await stream.ReadExactlyAsync(destination, cancellationToken);
    }

    private async Task<Stream> OpenSegmentAsync(ChunkSegment segment, CancellationToken cancellationToken) =>
        await _data.GetAsync(segment.Key, segment.Start, segment.Count - 1, cancellationToken)
            ?? throw new KeyNotFoundException($"Staged chunk '{segment.Key}' vanished while it was read.");

    private async Task<(string Key, string MultipartId)?> ReadCommitMarkerAsync(string key, CancellationToken cancellationToken)
    {
        await using var stream = await _data.GetAsync(key, null, null, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cancellationToken);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline > 0 ? (text[..newline], text[(newline + 1)..]) : null;
    }

    private async IAsyncEnumerable<(string Key, string MultipartId)> ListMultipartUploadsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListMultipartUploadsRequest { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var page = await CallAsync(ct => _client.ListMultipartUploadsAsync(request, ct), cancellationToken);
            foreach (var upload in page.MultipartUploads ?? [])
            {
                yield return (upload.Key, upload.UploadId);
            }

            if (page.IsTruncated != true)
            {
                yield break;
            }

            request.KeyMarker = page.NextKeyMarker;
            request.UploadIdMarker = page.NextUploadIdMarker;
        }
    }

    private async Task DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        // The created marker goes last: until it is gone the upload still exists and can be aborted again.
        foreach (var batch in keys.OrderBy(k => k.EndsWith('/' + CreatedMarker)).Chunk(1000))
        {
            var request = new DeleteObjectsRequest { BucketName = _bucket, Quiet = true, Objects = [.. batch.Select(k => new KeyVersion { Key = k })] };
            await CallAsync(ct => _client.DeleteObjectsAsync(request, ct), cancellationToken);
        }
    }

    /// <summary>Every object of one staging area: its keys, chunk sizes by name, and markers.</summary>
    private async Task<Staging> ReadStagingAsync(string uploadId, string prefix, bool requireCreated, CancellationToken cancellationToken)
    {
        var staging = new Staging();
        await foreach (var item in ListObjectsAsync(prefix, cancellationToken))
        {
            var name = item.Key.AsSpan(prefix.Length);
            staging.Keys.Add(item.Key);
            if (name.SequenceEqual(CreatedMarker))
            {
                staging.HasCreatedMarker = true;
            }
            else if (name.SequenceEqual(CommitMarker))
            {
                staging.HasCommitMarker = true;
            }
            else
            {
                staging.Chunks[name.ToString()] = item.Size ?? 0;
            }
        }

        if (requireCreated && !staging.HasCreatedMarker)
        {
            throw new KeyNotFoundException($"Upload '{uploadId}' does not exist.");
        }

        return staging;
    }

    /// <summary>The objects that hold <paramref name="chunks"/>, each of which must be staged whole.</summary>
    private static List<ChunkSegment> Segments(string uploadId, string prefix, Staging staging, IReadOnlyList<UploadChunk> chunks)
    {
        var segments = new List<ChunkSegment>(chunks.Count);
        foreach (var chunk in chunks)
        {
            var key = ChunkKey(prefix, chunk);
            if (!staging.Chunks.TryGetValue(key[prefix.Length..], out var size) || size < chunk.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(chunks), chunk, $"Upload '{uploadId}' has no chunk {chunk.Name} of {chunk.Length} bytes staged.");
            }

            segments.Add(new ChunkSegment(key, chunk.Length, size));
        }

        return segments;
    }

    private static string ChunkKey(string prefix, UploadChunk chunk) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{chunk.Offset:D20}.{chunk.WriteId}");

    /// <summary>The staging prefix of an id, which must be a plain name: it can never leave uploads/.</summary>
    private string UploadPrefix(string uploadId)
    {
        UploadIds.ThrowIfInvalid(uploadId);
        return $"{_root}uploads/{uploadId}/";
    }

    private sealed class Staging
    {
        public List<string> Keys { get; } = [];

        public Dictionary<string, long> Chunks { get; } = new(StringComparer.Ordinal);

        public bool HasCreatedMarker { get; set; }

        public bool HasCommitMarker { get; set; }
    }
}
