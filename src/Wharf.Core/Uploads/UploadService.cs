using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Wharf.Core.Encryption;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Core.Storage;

namespace Wharf.Core.Uploads;

/// <summary>Where an upload stands: its id and how many bytes are staged.</summary>
public sealed record UploadStatus(string Id, long Offset);

/// <summary>
/// Blob uploads (DESIGN.md "Uploads survive any node"): a session row plus staged bytes. Bytes are
/// hashed (SHA-256) while they are written; the running hash is kept in memory per upload and offset
/// and rebuilt from the staged bytes when this node has not seen the previous chunk. One upload's
/// requests are serialised on a node; across nodes the optimistic offset advance decides, and it
/// records which chunk won, so the bytes read back and committed are always the bytes that were hashed.
/// </summary>
public sealed class UploadService(
    IMetadataStore store,
    IBlobVault blobs,
    RepositoryResolver repositories,
    DataPlaneSettings settings,
    TimeProvider time)
{
    private static readonly TimeSpan ReserveRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ReserveGiveUpAfter = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, RunningHash> hashes = new(StringComparer.Ordinal);
    private readonly KeyedLock locks = new();

    /// <summary>POST: opens a session (creating the repository on push when configured).</summary>
    public async Task<UploadStatus> StartAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetForPushAsync(caller, key, EcrActions.InitiateLayerUpload, cancellationToken);
        var session = await OpenSessionAsync(repository, cancellationToken);
        return new UploadStatus(session.Id, 0);
    }

    /// <summary>
    /// Starts an import into <paramref name="repository"/> of a blob the registry itself reads from elsewhere
    /// (pull through cache): an ordinary upload session, appended and committed by its one writer with no caller
    /// to authorise (whoever asked for the blob was authorised already). Dispose the import to abort it when it
    /// was not committed.
    /// </summary>
    internal async Task<BlobImport> StartImportAsync(Repository repository, CancellationToken cancellationToken)
    {
        var session = await OpenSessionAsync(repository, cancellationToken);
        return new BlobImport(this, repository, session);
    }

    private async Task<UploadSession> OpenSessionAsync(Repository repository, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var now = time.GetUtcNow();
        EvictStaleHashes(now);
        // The row before the staging area: staging without a row is then always an orphan that
        // garbage collection may remove, never an upload about to get its row.
        var session = new UploadSession(id, repository.Id, 0, now, now + settings.UploadExpiry);
        await store.Uploads.CreateAsync(session, cancellationToken);
        await blobs.CreateUploadAsync(id, cancellationToken);
        return session;
    }

    /// <summary>POST <c>?digest=</c>: the whole blob in one request; returns the committed digest.</summary>
    public async Task<Digest> UploadMonolithicAsync(Caller caller, RepositoryKey key, Digest digest, Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        var started = await StartAsync(caller, key, cancellationToken);
        try
        {
            return await CompleteAsync(caller, key, started.Id, digest, body, contentLength, cancellationToken);
        }
        catch
        {
            await CancelQuietlyAsync(started.Id);
            throw;
        }
    }

    /// <summary>GET on the upload URL: where it stands.</summary>
    public async Task<UploadStatus> GetStatusAsync(Caller caller, RepositoryKey key, string uploadId, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.UploadLayerPart, cancellationToken);
        var session = await GetSessionAsync(repository, uploadId, cancellationToken);
        return new UploadStatus(session.Id, session.Offset);
    }

    /// <summary>
    /// PATCH: stores a chunk at the current offset. <paramref name="rangeStart"/> (from <c>Content-Range</c>) must equal the
    /// current offset, else 416 with the current <c>Range</c>. When <paramref name="contentLength"/> or
    /// <paramref name="rangeLength"/> is given the bytes received must match it, and when both are given
    /// they must agree, else <c>SIZE_INVALID</c> and the offset does not move.
    /// </summary>
    public async Task<UploadStatus> AppendAsync(
        Caller caller,
        RepositoryKey key,
        string uploadId,
        Stream body,
        long? contentLength,
        long? rangeStart,
        long? rangeLength,
        CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.UploadLayerPart, cancellationToken);
        using var held = await locks.AcquireAsync(uploadId, cancellationToken);
        var session = await GetSessionAsync(repository, uploadId, cancellationToken);
        if (rangeStart is { } start && start != session.Offset)
        {
            throw new WharfException(WharfErrorCode.UploadRangeInvalid, $"chunk starts at {start} but the upload has {session.Offset} bytes")
            {
                Headers = UploadHeaders(key, session.Id, session.Offset),
            };
        }

        // Refused before a byte is read, as distribution does: one of the two headers is wrong.
        if (contentLength is { } declared && rangeLength is { } described && declared != described)
        {
            throw new WharfException(WharfErrorCode.SizeInvalid, $"Content-Range describes {described} bytes but Content-Length is {declared}");
        }

        var appended = await AppendCoreAsync(BlobScope.Of(repository.Settings), session, body, contentLength ?? rangeLength, cancellationToken);
        return new UploadStatus(session.Id, appended.Offset);
    }

    /// <summary>
    /// PUT <c>?digest=</c>: appends the optional last chunk (<paramref name="body"/> may be null), verifies
    /// the digest, then reserves, commits and links the blob and ends the session. A mismatch commits nothing.
    /// </summary>
    public async Task<Digest> CompleteAsync(
        Caller caller,
        RepositoryKey key,
        string uploadId,
        Digest digest,
        Stream? body,
        long? contentLength,
        CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.CompleteLayerUpload, cancellationToken);
        using var held = await locks.AcquireAsync(uploadId, cancellationToken);
        var session = await GetSessionAsync(repository, uploadId, cancellationToken);
        if (body is not null)
        {
            session = await AppendCoreAsync(BlobScope.Of(repository.Settings), session, body, contentLength, cancellationToken);
        }

        return await CommitSessionAsync(repository, session, digest, null, cancellationToken);
    }

    /// <summary>
    /// Verifies the digest over the session's chunks (then tells <paramref name="verified"/>), reserves, commits and
    /// links the blob and ends the session. A mismatch commits nothing.
    /// </summary>
    private async Task<Digest> CommitSessionAsync(Repository repository, UploadSession session, Digest digest, Action? verified, CancellationToken cancellationToken)
    {
        var size = session.Offset;
        var chunks = RecordedChain(session);
        var scope = BlobScope.Of(repository.Settings);
        try
        {
            var actual = await ComputeDigestAsync(scope, session, chunks, digest.Algorithm, cancellationToken);
            if (actual != digest)
            {
                throw new WharfException(WharfErrorCode.DigestInvalid, $"provided digest {digest} did not match uploaded content ({actual})", new JsonObject { ["digest"] = digest.ToString() });
            }

            verified?.Invoke();

            await ReserveAsync(digest, size, cancellationToken);
            await blobs.CommitUploadAsync(scope, session.Id, chunks, digest, cancellationToken);
        }
        catch (KeyNotFoundException)
        {
            // The staged bytes went (an upload expired, or its staging was collected) while the row
            // stayed: the client starts again, as after any lost upload.
            ForgetHash(session.Id);
            throw StagingGone();
        }

        if (!await store.Blobs.LinkBlobAsync(repository.Id, digest, time.GetUtcNow(), cancellationToken))
        {
            throw new WharfException(WharfErrorCode.Unavailable, "the blob was being garbage-collected; retry the upload");
        }

        await store.Uploads.DeleteAsync(session.Id, cancellationToken);
        ForgetHash(session.Id);
        return digest;
    }

    /// <summary>DELETE on the upload URL: ends the session and removes its staged bytes.</summary>
    public async Task CancelAsync(Caller caller, RepositoryKey key, string uploadId, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.UploadLayerPart, cancellationToken);
        using var held = await locks.AcquireAsync(uploadId, cancellationToken);
        var session = await GetSessionAsync(repository, uploadId, cancellationToken);
        await store.Uploads.DeleteAsync(session.Id, cancellationToken);
        await blobs.AbortUploadAsync(session.Id, cancellationToken);
        ForgetHash(session.Id);
    }

    /// <summary>An import's append: one chunk at the session's offset, under the upload's lock.</summary>
    internal async Task<UploadSession> AppendImportAsync(Repository repository, UploadSession session, Stream body, long? length, CancellationToken cancellationToken)
    {
        using var held = await locks.AcquireAsync(session.Id, cancellationToken);
        return await AppendCoreAsync(BlobScope.Of(repository.Settings), session, body, length, cancellationToken);
    }

    /// <summary>An import's commit (<see cref="CompleteAsync"/> without a caller or a last chunk); <paramref name="verified"/> is told once the digest matched.</summary>
    internal async Task<Digest> CommitImportAsync(Repository repository, UploadSession session, Digest digest, Action? verified, CancellationToken cancellationToken)
    {
        using var held = await locks.AcquireAsync(session.Id, cancellationToken);
        return await CommitSessionAsync(repository, session, digest, verified, cancellationToken);
    }

    /// <summary>An import that will not be committed: its row and staged bytes go (quietly; the expiry job removes what is left).</summary>
    internal Task AbortImportAsync(UploadSession session) => CancelQuietlyAsync(session.Id);

    /// <summary>The headers every upload response carries (also put on a 416).</summary>
    public static Dictionary<string, string> UploadHeaders(RepositoryKey key, string uploadId, long offset) => new()
    {
        ["Location"] = $"/v2/{key.Name}/blobs/uploads/{uploadId}",
        ["Range"] = $"0-{Math.Max(offset - 1, 0)}",
        ["Docker-Upload-UUID"] = uploadId,
    };

    private async Task<UploadSession> GetSessionAsync(Repository repository, string uploadId, CancellationToken cancellationToken)
    {
        var session = UploadIds.IsValid(uploadId) ? await store.Uploads.GetAsync(uploadId, cancellationToken) : null;
        if (session is null || session.RepositoryId != repository.Id)
        {
            throw new WharfException(WharfErrorCode.BlobUploadUnknown, $"upload {uploadId} is unknown to this repository");
        }

        return session;
    }

    private async Task<UploadSession> AppendCoreAsync(BlobScope scope, UploadSession session, Stream body, long? expectedLength, CancellationToken cancellationToken)
    {
        if (session.Chunks.Count >= UploadChunk.MaxPerUpload)
        {
            throw new WharfException(
                WharfErrorCode.BlobUploadInvalid,
                $"upload {session.Id} already has {UploadChunk.MaxPerUpload} chunks, the most one upload may have; complete it with PUT and no body, or start again with bigger chunks");
        }

        var running = await GetRunningHashAsync(scope, session, cancellationToken);
        var hashing = new HashingReadStream(body, running.Hash);
        UploadChunk chunk;
        try
        {
            chunk = await blobs.WriteUploadChunkAsync(scope, session.Id, RecordedChain(session), hashing, expectedLength, cancellationToken);
        }
        catch (InvalidDataException)
        {
            ForgetHash(session.Id);
            throw new WharfException(WharfErrorCode.SizeInvalid, $"received {hashing.BytesRead} bytes but {expectedLength} were declared");
        }
        catch (KeyNotFoundException)
        {
            // A crash between the row and its staging area: the upload cannot continue.
            ForgetHash(session.Id);
            throw StagingGone();
        }
        catch
        {
            // The hash has seen bytes the session will not keep.
            ForgetHash(session.Id);
            throw;
        }

        var received = hashing.BytesRead;
        if (expectedLength is { } expected && expected != received || chunk.End != session.Offset + received)
        {
            ForgetHash(session.Id);
            throw new WharfException(WharfErrorCode.SizeInvalid, $"received {received} bytes but {expectedLength} were declared");
        }

        // The advance records this chunk as the one at this offset. Another request may have written
        // its own chunk here at the same time (on another node); only the winner's chunk is ever read
        // or committed, and the winner's node is the one whose running hash saw those bytes.
        var newOffset = session.Offset + received;
        var name = received > 0 ? chunk.Name : null;
        bool advanced;
        try
        {
            advanced = await store.Uploads.AdvanceAsync(session.Id, session.Offset, newOffset, name, cancellationToken);
        }
        catch
        {
            ForgetHash(session.Id);
            throw;
        }

        if (!advanced)
        {
            ForgetHash(session.Id);
            throw new WharfException(WharfErrorCode.BlobUploadUnknown, $"upload {session.Id} was ended or moved by another request");
        }

        running.Offset = newOffset;
        return session with { Offset = newOffset, Chunks = name is null ? session.Chunks : [.. session.Chunks, name] };
    }

    private static WharfException StagingGone() =>
        new(WharfErrorCode.BlobUploadUnknown, "the upload's staged bytes are gone; start a new upload");

    /// <summary>The chunks the session accepted; an upload begun before chunks were recorded cannot go on.</summary>
    internal static IReadOnlyList<UploadChunk> RecordedChain(UploadSession session)
    {
        try
        {
            return UploadChunk.Chain(session.Chunks, session.Offset);
        }
        catch (FormatException)
        {
            throw new WharfException(WharfErrorCode.BlobUploadUnknown, $"upload {session.Id} has no record of its chunks; start a new upload");
        }
    }

    /// <summary>The SHA-256 of the session's staged bytes, from memory or rebuilt from its recorded chunks.</summary>
    private async Task<RunningHash> GetRunningHashAsync(BlobScope scope, UploadSession session, CancellationToken cancellationToken)
    {
        // The offset names the chain: it only grows, and every advance appends the chunk that made it.
        if (hashes.TryGetValue(session.Id, out var cached) && cached.Offset == session.Offset)
        {
            cached.LastUsed = time.GetUtcNow();
            return cached;
        }

        ForgetHash(session.Id);
        var chunks = RecordedChain(session);
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            await FeedStagedAsync(scope, session.Id, chunks, hash, cancellationToken);
        }
        catch
        {
            hash.Dispose();
            throw;
        }

        var running = new RunningHash(hash) { Offset = session.Offset, LastUsed = time.GetUtcNow() };
        hashes[session.Id] = running;
        return running;
    }

    private async Task<Digest> ComputeDigestAsync(BlobScope scope, UploadSession session, IReadOnlyList<UploadChunk> chunks, DigestAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (algorithm == DigestAlgorithm.Sha256)
        {
            var running = await GetRunningHashAsync(scope, session, cancellationToken);
            return Digest.FromHash(DigestAlgorithm.Sha256, running.Hash.GetCurrentHash());
        }

        // Uploads are hashed with SHA-256 as they arrive; other algorithms re-read the staged bytes once.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        await FeedStagedAsync(scope, session.Id, chunks, hash, cancellationToken);
        return Digest.FromHash(algorithm, hash.GetCurrentHash());
    }

    private async Task FeedStagedAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, IncrementalHash hash, CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        await using var staged = await blobs.OpenUploadReadAsync(scope, uploadId, chunks, 0, cancellationToken);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await staged.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task ReserveAsync(Digest digest, long size, CancellationToken cancellationToken)
    {
        var giveUpAt = time.GetUtcNow() + ReserveGiveUpAfter;
        while (await store.Blobs.ReserveBlobAsync(digest, size, time.GetUtcNow(), cancellationToken) == BlobReservation.BeingDeleted)
        {
            if (time.GetUtcNow() >= giveUpAt)
            {
                throw new WharfException(WharfErrorCode.Unavailable, $"blob {digest} is being garbage-collected; retry the upload");
            }

            await Task.Delay(ReserveRetryDelay, time, cancellationToken);
        }
    }

    private void ForgetHash(string uploadId)
    {
        if (hashes.TryRemove(uploadId, out var running))
        {
            running.Hash.Dispose();
        }
    }

    private async Task CancelQuietlyAsync(string uploadId)
    {
        try
        {
            await store.Uploads.DeleteAsync(uploadId, CancellationToken.None);
            await blobs.AbortUploadAsync(uploadId, CancellationToken.None);
        }
        catch (Exception)
        {
            // The expiry job removes what is left.
        }
        finally
        {
            ForgetHash(uploadId);
        }
    }

    /// <summary>How many running hashes this node holds (for tests).</summary>
    internal int CachedHashCount => hashes.Count;

    /// <summary>
    /// Drops running hashes untouched for longer than an upload may live: abandoned uploads would
    /// otherwise hold them forever (the expiry job runs on one node and knows nothing of this cache).
    /// </summary>
    private void EvictStaleHashes(DateTimeOffset now)
    {
        foreach (var (id, running) in hashes)
        {
            if (now - running.LastUsed > settings.UploadExpiry)
            {
                ForgetHash(id);
            }
        }
    }

    private sealed class RunningHash(IncrementalHash hash)
    {
        public IncrementalHash Hash { get; } = hash;

        public DateTimeOffset LastUsed { get; set; }

        public long Offset { get; set; }
    }
}
