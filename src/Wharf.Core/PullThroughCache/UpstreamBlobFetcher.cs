// TEMPORARY STUB until h/blobs lands (not to be committed).
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;

namespace Wharf.Core.PullThroughCache;

#pragma warning disable CS1591
public sealed class UpstreamBlobFetcher
{
    public Task<BlobRead> OpenAsync(Repository repository, Digest digest, ByteRange? range, Func<CancellationToken, Task<UpstreamBlob>> openUpstream, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task EnsureAsync(Repository repository, Digest digest, Func<CancellationToken, Task<UpstreamBlob>> openUpstream, CancellationToken cancellationToken) => throw new NotImplementedException();
}
