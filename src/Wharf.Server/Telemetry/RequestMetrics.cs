using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Server.Hosting;

namespace Wharf.Server.Telemetry;

/// <summary>
/// Counts every request when it ends: requests and latency by surface, operation, method and status, and body bytes
/// in and out. Runs on the request's thread after the response; no I/O, no lock (the instruments aggregate lock-free).
/// </summary>
internal sealed class RequestMetrics : IRequestObserver
{
    public void OnCompleted(HttpContext context, RequestRecord record)
    {
        var operation = OperationLabels.Operation(record.Surface, record.Operation);
        var tags = new TagList
        {
            { "surface", record.Surface },
            { "operation", operation },
            { "method", OperationLabels.Method(context.Request.Method) },
            { "status", OperationLabels.Status(context.Response.StatusCode) },
        };
        WharfMetrics.Requests.Add(1, tags);
        WharfMetrics.RequestDuration.Record(Stopwatch.GetElapsedTime(record.StartTimestamp).TotalSeconds, tags);

        var received = context.Features.Get<RequestBodyCounter>()?.Count ?? 0;
        var sent = HttpMethods.IsHead(context.Request.Method) ? 0 : context.Response.ContentLength ?? 0;
        if (received > 0 || sent > 0)
        {
            var where = new TagList { { "surface", record.Surface }, { "operation", operation } };
            if (received > 0)
            {
                WharfMetrics.Received.Add(received, where);
            }

            if (sent > 0)
            {
                WharfMetrics.Sent.Add(sent, where);
            }
        }
    }

    /// <summary>
    /// Counts what is read of a request body that has one (GETs and HEADs do not, so the small-request path pays
    /// nothing): a pass-through stream around the body, which a push's blob bytes cross anyway.
    /// </summary>
    public static void CountBody(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            var counter = new RequestBodyCounter(context.Request.Body);
            context.Features.Set(counter);
            context.Request.Body = counter;
        }
    }
}

/// <summary>A request body that counts the bytes read through it.</summary>
internal sealed class RequestBodyCounter(Stream inner) : Stream
{
    private long total;

    /// <summary>The bytes read so far; read once the request has ended.</summary>
    public long Count => total;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await inner.ReadAsync(buffer, cancellationToken));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Counted(int read)
    {
        total += read;
        return read;
    }
}
