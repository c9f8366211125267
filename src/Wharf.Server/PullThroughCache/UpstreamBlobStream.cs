using Wharf.Core.PullThroughCache;
using Wharf.Core.Storage;

namespace Wharf.Server.PullThroughCache;

/// <summary>
/// A blob's bytes as the upstream sends them, read only forward: a connection that breaks mid-blob (or a body
/// shorter than its Content-Length) is an <see cref="UpstreamException"/> (Unavailable), and disposing it
/// releases the upstream's response.
/// </summary>
internal sealed class UpstreamBlobStream(Stream inner, HttpResponseMessage response, string what) : ReadOnlyStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new UpstreamException(UpstreamFailure.Unavailable, $"{what}: the upstream stopped sending the blob: {e.Message}", e);
        }
    }

    // Request paths read asynchronously; a synchronous read is refused rather than blocking a thread on the network.
    public override int Read(Span<byte> buffer) => throw new NotSupportedException("Read the upstream's blob asynchronously.");

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        response.Dispose();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }
}
