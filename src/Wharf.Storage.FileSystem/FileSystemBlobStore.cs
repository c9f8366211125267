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
    private const int AppendBufferSize = 1024 * 1024;
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

    public FileSystemBlobStore(string rootPath)
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
    }

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

        var position = offset;
        var writtenBack = offset;
        var buffer = ArrayPool<byte>.Shared.Rent(AppendBufferSize);
        try
        {
            while (true)
            {
                // Fewer than the minimum only at the end. A minimum below the buffer's size lets a source that
                // answers in whole units (a sealing stream's segments) fill it without splitting one.
                int filled;
                try
                {
                    filled = await source.ReadAtLeastAsync(buffer, MinimumAppendRead, throwOnEndOfStream: false, cancellationToken);
                }
                catch
                {
                    // A body that failed mid-way was never a chunk: cut what it wrote off again.
                    RandomAccess.SetLength(handle, offset);
                    throw;
                }

                if (filled > 0)
                {
                    try
                    {
                        await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, filled), position, cancellationToken);
                    }
                    catch
                    {
                        // A write cancelled with its request (or failed) ends the chunk as a failed read does.
                        RandomAccess.SetLength(handle, offset);
                        throw;
                    }

                    position += filled;
                    if (WriteBackWhileAppending && position - writtenBack >= WriteBackEvery)
                    {
                        WriteBack.StartInBackground(handle, writtenBack, position - writtenBack);
                        writtenBack = position;
                    }
                }

                if (filled < MinimumAppendRead)
                {
                    if (length is { } expected && position - offset != expected)
                    {
                        // The bytes past the offset were never a chunk: cut them off again.
                        RandomAccess.SetLength(handle, offset);
                        throw new InvalidDataException($"the body held {position - offset} bytes, not the {expected} declared");
                    }

                    return new UploadChunk(offset, position, UploadChunk.NewWriteId());
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
