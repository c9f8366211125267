using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Storage.FileSystem;

/// <summary>
/// <see cref="IBlobStore"/> on a local directory:
/// <c>blobs/&lt;alg&gt;/&lt;first two hex&gt;/&lt;hex&gt;</c> for committed blobs and
/// <c>uploads/&lt;uploadId&gt;</c> for staging, both under one root so that a commit is a rename on one
/// filesystem. A file appears at a blob path only by that rename, after its bytes were flushed, so a
/// reader or a crash never sees a partial blob. An upload's chunks are one file: a chunk is written at
/// its offset after cutting the file there (so a chunk a failed request left is replaced), and the
/// chain from 0 to any length is the file's first bytes. Staging files are not locked: the upload
/// service above serialises the requests of one upload.
/// </summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    // One write per MiB of request body: few syscalls, and the pool keeps arrays of this size.
    internal const int AppendBufferSize = 1024 * 1024;
    private const int MinimumAppendRead = AppendBufferSize / 2;

    // Writeback of staged bytes starts while the body is still arriving, so the commit's fsync finds
    // little left to write (bench/RESULTS.md, "Pushes"). The fsync still makes the bytes durable.
    private const long WriteBackEvery = 8 * 1024 * 1024;
    private static readonly bool WriteBackWhileAppending = OperatingSystem.IsLinux();
    private const FileShare ShareAll = FileShare.ReadWrite | FileShare.Delete;
    private const FileOptions StreamingOptions = FileOptions.Asynchronous | FileOptions.SequentialScan;

    private static readonly DigestAlgorithm[] Algorithms = [DigestAlgorithm.Sha256, DigestAlgorithm.Sha512];

    private readonly string _blobsRoot;
    private readonly string _uploadsRoot;
    private readonly bool _directWrites;

    /// <param name="rootPath">The directory that holds <c>blobs/</c> and <c>uploads/</c>.</param>
    /// <param name="directWrites">
    /// Write uploads' bytes with <c>O_DIRECT</c> where the filesystem takes it (<see cref="DirectWrites"/>): a push then
    /// costs no page-cache copy. False writes through the page cache, as on filesystems that refuse it.
    /// </param>
    public FileSystemBlobStore(string rootPath, bool directWrites = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        var root = Path.GetFullPath(rootPath);
        _blobsRoot = Path.Combine(root, "blobs");
        _uploadsRoot = Path.Combine(root, "uploads");

        Directory.CreateDirectory(root);
        EnsureDirectory(_blobsRoot);
        EnsureDirectory(_uploadsRoot);
        foreach (var algorithm in Algorithms)
        {
            EnsureDirectory(Path.Combine(_blobsRoot, AlgorithmName(algorithm)));
        }

        _directWrites = directWrites && DirectWrites.Probe(_uploadsRoot);
    }

    /// <summary>Whether uploads are written with <c>O_DIRECT</c> (asked for, and the filesystem takes it).</summary>
    public bool WritesDirect => _directWrites;

    public Task CheckAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!Directory.Exists(_blobsRoot) || !Directory.Exists(_uploadsRoot))
        {
            throw new BlobStoreUnavailableException($"the blob directory {Path.GetDirectoryName(_blobsRoot)} is missing its blobs/ or uploads/ folder");
        }

        return Task.CompletedTask;
    }

    public Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileInfo(BlobPath(digest));
        return Task.FromResult(file.Exists ? new BlobStat(digest, file.Length, file.LastWriteTimeUtc) : null);
    }

    public Task<Stream?> OpenReadAsync(Digest digest, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } requested)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(requested, nameof(length));
        }

        cancellationToken.ThrowIfCancellationRequested();
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(BlobPath(digest), FileMode.Open, FileAccess.Read, ShareAll, StreamingOptions);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }

        try
        {
            var size = RandomAccess.GetLength(handle);
            if (offset > size)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The blob has only {size} bytes.");
            }

            var available = size - offset;
            var count = length is { } limit ? Math.Min(limit, available) : available;
            return Task.FromResult<Stream?>(new FileRangeStream(handle, offset, count));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(DeleteIfExists(BlobPath(digest)));
    }

    public async IAsyncEnumerable<BlobStat> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Directory enumeration is synchronous: leave the caller's thread before the first batch.
        await Task.Yield();
        foreach (var algorithm in Algorithms)
        {
            var name = AlgorithmName(algorithm);
            var algorithmDirectory = new DirectoryInfo(Path.Combine(_blobsRoot, name));
            if (!algorithmDirectory.Exists)
            {
                continue;
            }

            foreach (var shard in algorithmDirectory.EnumerateDirectories())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (shard.Name.Length != 2)
                {
                    continue;
                }

                foreach (var file in shard.EnumerateFiles())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!file.Name.StartsWith(shard.Name, StringComparison.Ordinal)
                        || !Digest.TryParse($"{name}:{file.Name}", out var digest))
                    {
                        continue;
                    }

                    BlobStat stat;
                    try
                    {
                        stat = new BlobStat(digest, file.Length, file.LastWriteTimeUtc);
                    }
                    catch (FileNotFoundException)
                    {
                        continue; // deleted while we listed
                    }

                    yield return stat;
                }
            }
        }
    }

    public Task<Uri?> GetDownloadUrlAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) =>
        Task.FromResult<Uri?>(null);

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var path = UploadPath(uploadId);
        cancellationToken.ThrowIfCancellationRequested();
        // OpenOrCreate keeps bytes already staged under this id: a repeated create changes nothing.
        using var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Write, ShareAll);
        return Task.CompletedTask;
    }

    // The chain is one file cut at each write's offset: write ids are handed out but not kept, so a
    // later write at an offset replaces an earlier one. That is safe because one node serialises an
    // upload's writes (UploadService's lock per upload), and is why this store serves one node.
    public async Task<UploadChunk> WriteUploadChunkAsync(string uploadId, long offset, Stream source, long? length, CancellationToken cancellationToken)
    {
        var path = UploadPath(uploadId);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } declared)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(declared, nameof(length));
        }

        ArgumentNullException.ThrowIfNull(source);

        using var handle = OpenUpload(uploadId, path, FileAccess.Write, FileOptions.Asynchronous);
        var staged = RandomAccess.GetLength(handle);
        if (offset > staged)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Upload '{uploadId}' has only {staged} bytes staged.");
        }

        if (staged > offset)
        {
            RandomAccess.SetLength(handle, offset);
        }

        long end;
        try
        {
            end = _directWrites
                ? await AppendDirectAsync(uploadId, path, handle, offset, source, cancellationToken)
                : await AppendBufferedAsync(handle, offset, source, cancellationToken);
        }
        catch
        {
            // A body that failed mid-way, or a write cancelled with its request (or failed), was never a
            // chunk: cut what it wrote off again.
            RandomAccess.SetLength(handle, offset);
            throw;
        }

        if (length is { } expected && end - offset != expected)
        {
            // The bytes past the offset were never a chunk: cut them off again.
            RandomAccess.SetLength(handle, offset);
            throw new InvalidDataException($"the body held {end - offset} bytes, not the {expected} declared");
        }

        return new UploadChunk(offset, end, UploadChunk.NewWriteId());
    }

    /// <summary>Appends the source at <paramref name="offset"/> through the page cache; returns the file offset after it.</summary>
    private static async Task<long> AppendBufferedAsync(SafeFileHandle handle, long offset, Stream source, CancellationToken cancellationToken)
    {
        var position = offset;
        var writtenBack = offset;
        var buffer = ArrayPool<byte>.Shared.Rent(AppendBufferSize);
        try
        {
            while (true)
            {
                // Fewer than the minimum only at the end. A minimum below the buffer's size lets a source that
                // answers in whole units (a sealing stream's segments) fill it without splitting one.
                var filled = await source.ReadAtLeastAsync(buffer, MinimumAppendRead, throwOnEndOfStream: false, cancellationToken);
                if (filled > 0)
                {
                    await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, filled), position, cancellationToken);
                    position += filled;
                    if (WriteBackWhileAppending && position - writtenBack >= WriteBackEvery)
                    {
                        WriteBack.StartInBackground(handle, writtenBack, position - writtenBack);
                        writtenBack = position;
                    }
                }

                if (filled < MinimumAppendRead)
                {
                    return position;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Appends the source at <paramref name="offset"/> with direct writes (<see cref="DirectWrites"/>); returns the file
    /// offset after it. Each read lands in an aligned buffer at the place its file offset takes within a unit, so every
    /// whole unit goes to the disk straight from that buffer, while the next read fills the other buffer. Only the
    /// chunk's two unaligned ends go through the page cache: the part of its first unit before the first whole one, and
    /// the part of its last unit after the last. The bytes of an unfinished unit at the end of a read move to the front
    /// of the other buffer and are written with the next. A chunk that ends within its first read is written through the
    /// page cache whole, as small blobs always are.
    /// </summary>
    private static async Task<long> AppendDirectAsync(string uploadId, string path, SafeFileHandle handle, long offset, Stream source, CancellationToken cancellationToken)
    {
        const int Unit = DirectWrites.Alignment;
        var current = AlignedBuffer.Rent();
        AlignedBuffer? other = null; // rented once the chunk turns out larger than one read
        SafeFileHandle? direct = null;
        var pending = Task.CompletedTask;
        try
        {
            // current[0] stands for the file offset `unitStart`; the bytes before `carry` are either not ours (the
            // chunk's first unit, before its offset) or were carried over from the read before.
            var carry = (int)(offset % Unit);
            var unitStart = offset - carry;
            var first = true;
            while (true)
            {
                var filled = await source.ReadAtLeastAsync(current.Memory.Slice(carry, AppendBufferSize), MinimumAppendRead, throwOnEndOfStream: false, cancellationToken);
                await pending;
                var end = carry + filled;
                var last = filled < MinimumAppendRead;
                if (first && last)
                {
                    if (filled > 0)
                    {
                        await RandomAccess.WriteAsync(handle, current.Memory[carry..end], offset, cancellationToken);
                    }

                    return offset + filled;
                }

                var whole = 0;
                if (first)
                {
                    first = false;
                    other = AlignedBuffer.Rent();
                    direct = OpenUpload(uploadId, path, FileAccess.Write, FileOptions.None);
                    if (!DirectWrites.TryEnable(direct))
                    {
                        // The probe said yes, this file says no (the directory was remounted): through the page cache.
                        await RandomAccess.WriteAsync(handle, current.Memory[carry..end], offset, cancellationToken);
                        return await AppendBufferedAsync(handle, offset + filled, source, cancellationToken);
                    }

                    if (carry > 0)
                    {
                        // The chunk's first unit is partly the chunk before it (a read is at least 512 KiB, so it holds the rest).
                        await RandomAccess.WriteAsync(handle, current.Memory[carry..Unit], offset, cancellationToken);
                        whole = Unit;
                    }
                }

                var aligned = (end - whole) / Unit * Unit;
                if (last)
                {
                    if (aligned > 0)
                    {
                        await RandomAccess.WriteAsync(direct!, current.Memory.Slice(whole, aligned), unitStart + whole, cancellationToken);
                    }

                    if (whole + aligned < end)
                    {
                        await RandomAccess.WriteAsync(handle, current.Memory[(whole + aligned)..end], unitStart + whole + aligned, cancellationToken);
                    }

                    return unitStart + end;
                }

                var tail = end - whole - aligned;
                current.Memory.Slice(whole + aligned, tail).CopyTo(other!.Memory);
                pending = RandomAccess.WriteAsync(direct!, current.Memory.Slice(whole, aligned), unitStart + whole, cancellationToken).AsTask();
                unitStart += whole + aligned;
                carry = tail;
                (current, other) = (other!, current);
            }
        }
        finally
        {
            // A write still in flight reads its buffer: it must end before the buffers go back. Its failure, if any,
            // is the exception already on its way out (or the one awaited above).
            try
            {
                await pending;
            }
            catch
            {
            }

            direct?.Dispose();
            current.Dispose();
            other?.Dispose();
        }
    }

    public Task<bool> UploadExistsAsync(string uploadId, CancellationToken cancellationToken)
    {
        var path = UploadPath(uploadId);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(File.Exists(path));
    }

    public Task<Stream> OpenUploadReadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken)
    {
        var path = UploadPath(uploadId);
        var length = UploadChunk.ThrowIfNotChain(chunks);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, length);
        cancellationToken.ThrowIfCancellationRequested();

        var handle = OpenUpload(uploadId, path, FileAccess.Read, StreamingOptions);
        try
        {
            ThrowIfShorter(uploadId, RandomAccess.GetLength(handle), length);
            return Task.FromResult<Stream>(new FileRangeStream(handle, offset, length - offset));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public Task CommitUploadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken)
    {
        var staging = UploadPath(uploadId);
        var length = UploadChunk.ThrowIfNotChain(chunks);
        cancellationToken.ThrowIfCancellationRequested();

        var target = BlobPath(digest);
        bool exists;
        using (var handle = OpenUpload(uploadId, staging, FileAccess.Write, FileOptions.None))
        {
            var staged = RandomAccess.GetLength(handle);
            ThrowIfShorter(uploadId, staged, length);

            // Content addressing: an existing blob of this digest already holds these very bytes.
            exists = File.Exists(target);
            if (!exists)
            {
                if (staged > length)
                {
                    RandomAccess.SetLength(handle, length);
                }

                // The bytes must be on disk before the name is: otherwise a crash right after the
                // rename could leave a short or zeroed file at the blob path.
                RandomAccess.FlushToDisk(handle);
            }
        }

        if (exists)
        {
            File.Delete(staging);
            return Task.CompletedTask;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var shard = Path.GetDirectoryName(target)!;
        EnsureDirectory(shard);

        // rename(2) replaces atomically: two commits of one digest racing here both succeed, a
        // reader holds either complete copy, and the loser's bytes go with the replaced inode.
        File.Move(staging, target, overwrite: true);
        DirectorySync.Flush(shard);
        // Nothing flushes uploads/: a staging entry resurrected by a crash is reclaimed by upload expiry.
        return Task.CompletedTask;
    }

    public Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var path = UploadPath(uploadId);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(DeleteIfExists(path));
    }

    public async IAsyncEnumerable<string> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var name in Directory.EnumerateFiles(_uploadsRoot).Select(Path.GetFileName))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (UploadIds.IsValid(name))
            {
                yield return name!;
            }
        }
    }

    private static string AlgorithmName(DigestAlgorithm algorithm) =>
        algorithm == DigestAlgorithm.Sha256 ? "sha256" : "sha512";

    private string BlobPath(Digest digest) =>
        Path.Combine(_blobsRoot, digest.AlgorithmName, digest.Hex[..2], digest.Hex);

    /// <summary>The staging path of an id, which must be a plain name: it can never leave uploads/.</summary>
    private string UploadPath(string uploadId)
    {
        UploadIds.ThrowIfInvalid(uploadId);
        return Path.Combine(_uploadsRoot, uploadId);
    }

    private static SafeFileHandle OpenUpload(string uploadId, string path, FileAccess access, FileOptions options)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, access, ShareAll, options);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new KeyNotFoundException($"Upload '{uploadId}' does not exist.", e);
        }
    }

    private static void ThrowIfShorter(string uploadId, long staged, long length)
    {
        if (length > staged)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Upload '{uploadId}' has only {staged} bytes staged.");
        }
    }

    private static bool DeleteIfExists(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        // File.Delete ignores a file that vanished since: a racing delete is not a fault.
        File.Delete(path);
        return true;
    }

    /// <summary>Creates a directory and makes its entry durable in the parent.</summary>
    private static void EnsureDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(path);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
    }
}
