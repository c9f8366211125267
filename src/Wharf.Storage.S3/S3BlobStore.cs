using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Storage.S3;

/// <summary><see cref="IBlobStore"/> on an S3-compatible bucket. (Skeleton: being written.)</summary>
public sealed class S3BlobStore(S3BlobStoreOptions options) : IBlobStore, IDisposable
{
    public S3BlobStoreOptions Options { get; } = options;

    public Task CheckAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<Stream?> OpenReadAsync(Digest digest, long offset, long? length, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken) => throw new NotImplementedException();

    public IAsyncEnumerable<BlobStat> ListAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<Uri?> GetDownloadUrlAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<long> AppendUploadAsync(string uploadId, long offset, Stream source, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<long?> GetUploadSizeAsync(string uploadId, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<Stream> OpenUploadReadAsync(string uploadId, long length, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task CommitUploadAsync(string uploadId, long length, Digest digest, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken) => throw new NotImplementedException();

    public IAsyncEnumerable<string> ListUploadsAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
