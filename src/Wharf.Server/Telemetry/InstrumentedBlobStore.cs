using System.Diagnostics;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Core.Telemetry;

namespace Wharf.Server.Telemetry;

/// <summary>
/// The configured blob store with each call timed (<see cref="WharfInstrumentation.BlobStoreDuration"/>, by operation)
/// and traced (a span per call when tracing listens). Reads are timed to the stream's opening, not its last byte: the
/// bytes' time is the request's. Listings pass through untimed (they are the GC's and <c>wharf check</c>'s, one long walk).
/// </summary>
internal sealed class InstrumentedBlobStore(IBlobStore inner) : IBlobStore, IDisposable
{
    private static readonly Operation Check = new("check");
    private static readonly Operation Stat = new("stat");
    private static readonly Operation OpenRead = new("open_read");
    private static readonly Operation Delete = new("delete");
    private static readonly Operation DownloadUrl = new("download_url");
    private static readonly Operation CreateUpload = new("create_upload");
    private static readonly Operation WriteChunk = new("write_chunk");
    private static readonly Operation UploadExists = new("upload_exists");
    private static readonly Operation OpenUploadRead = new("open_upload_read");
    private static readonly Operation CommitUpload = new("commit_upload");
    private static readonly Operation AbortUpload = new("abort_upload");

    /// <summary>The store underneath.</summary>
    public IBlobStore Inner => inner;

    /// <summary>The container disposes this store in place of the one underneath (the S3 store's client).</summary>
    public void Dispose() => (inner as IDisposable)?.Dispose();

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var timing = Timing.Start(Check);
        try
        {
            await inner.CheckAsync(cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(Stat);
        try
        {
            return await inner.StatAsync(digest, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<Stream?> OpenReadAsync(Digest digest, long offset, long? length, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(OpenRead);
        try
        {
            return await inner.OpenReadAsync(digest, offset, length, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(Delete);
        try
        {
            return await inner.DeleteAsync(digest, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public IAsyncEnumerable<BlobStat> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public async Task<Uri?> GetDownloadUrlAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(DownloadUrl);
        try
        {
            return await inner.GetDownloadUrlAsync(digest, lifetime, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(CreateUpload);
        try
        {
            await inner.CreateUploadAsync(uploadId, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<UploadChunk> WriteUploadChunkAsync(string uploadId, long offset, Stream source, long? length, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(WriteChunk);
        try
        {
            return await inner.WriteUploadChunkAsync(uploadId, offset, source, length, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<bool> UploadExistsAsync(string uploadId, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(UploadExists);
        try
        {
            return await inner.UploadExistsAsync(uploadId, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<Stream> OpenUploadReadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(OpenUploadRead);
        try
        {
            return await inner.OpenUploadReadAsync(uploadId, chunks, offset, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task CommitUploadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(CommitUpload);
        try
        {
            await inner.CommitUploadAsync(uploadId, chunks, digest, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public async Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var timing = Timing.Start(AbortUpload);
        try
        {
            return await inner.AbortUploadAsync(uploadId, cancellationToken);
        }
        finally
        {
            timing.End();
        }
    }

    public IAsyncEnumerable<string> ListUploadsAsync(CancellationToken cancellationToken) => inner.ListUploadsAsync(cancellationToken);

    /// <summary>An operation's label, span name and tag, made once.</summary>
    private sealed class Operation(string name)
    {
        public string SpanName { get; } = "blob " + name;

        public KeyValuePair<string, object?> Tag { get; } = new("operation", name);
    }

    private readonly struct Timing(Operation operation, Activity? activity, long started)
    {
        public static Timing Start(Operation operation) =>
            new(operation, WharfInstrumentation.Source.StartActivity(operation.SpanName, ActivityKind.Client), Stopwatch.GetTimestamp());

        public void End()
        {
            WharfInstrumentation.BlobStoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, operation.Tag);
            activity?.Dispose();
        }
    }
}
