using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Wharf.Core.Storage;

namespace Wharf.Server.Hosting;

/// <summary>
/// Blob bodies from the page cache on plaintext connections: <c>sendfile(2)</c> instead of reading each byte into
/// a buffer and writing it to the socket (two copies through user space; nginx's <c>sendfile on</c>).
/// <para>
/// Kestrel has no such path (its <c>SendFileAsync</c> copies through a buffer), and a body it did not write itself
/// is, to Kestrel, a response short of its <c>Content-Length</c>: an error, and the connection closed after it. So
/// this connection middleware puts a pipe of its own between Kestrel and the socket and is the only sender on the
/// socket. A blob response registers its file range at the pipe's current end (<see cref="SendAsync"/>), then lets
/// Kestrel count the body: it advances Kestrel's response writer by the body's length without writing into the memory
/// (<see cref="PlaceholderBlock"/> bytes at a time). The send loop sends everything before the range as it came, the
/// range with <c>sendfile</c> (.NET's <c>Socket.SendPacketsAsync</c> of a file element), and drops the placeholder
/// bytes, which are never sent: whatever the pool memory held stays in the process.
/// </para>
/// <para>
/// Only on listeners without TLS (a TLS connection's bytes must pass through the cipher), only for HTTP/1.1 requests
/// (an HTTP/2 stream shares the connection with others and frames its data), and only for reads that are an
/// <see cref="IFileRegion"/> (plaintext blobs of the filesystem store). Every other byte takes the same path as before,
/// through this pipe instead of the socket transport's.
/// </para>
/// </summary>
internal sealed class SendfileConnection : IDuplexPipe
{
    /// <summary>Bytes advanced in Kestrel's writer per placeholder step (from the array pool: larger than a pool block).</summary>
    internal const int PlaceholderBlock = 1024 * 1024;

    /// <summary>Placeholder bytes advanced between flushes.</summary>
    internal const int PlaceholderFlush = 4 * PlaceholderBlock;

    /// <summary>Bodies shorter than this are copied as before: sendfile's set-up is not worth it.</summary>
    internal const long MinimumLength = 256 * 1024;

    /// <summary>At most this many bytes per sendfile element (<see cref="SendPacketsElement"/> counts in <c>int</c>).</summary>
    private const int MaxElement = 1 << 30;

    /// <summary>Bytes in the connection's pipe, not yet sent, at which a flush waits (resumed at half).</summary>
    internal const int PauseWriterThreshold = 384 * 1024;

    /// <summary>At most this many pieces of the pipe per <c>sendmsg(2)</c> (<see cref="SendBytesAsync"/>).</summary>
    private const int MaxSendSegments = 64;

    private static readonly object ItemKey = new();
    private readonly SendfileStats stats;
    private readonly ConnectionContext connection;
    private readonly Socket socket;
    private readonly IDuplexPipe transport;
    private readonly Pipe pipe;
    private readonly CountingWriter writer;
    private readonly List<ArraySegment<byte>> sendList = new(MaxSendSegments);
    private Region? region;

    private SendfileConnection(SendfileStats stats, ConnectionContext connection, Socket socket, IDuplexPipe transport, MemoryPool<byte> pool)
    {
        this.stats = stats;
        this.connection = connection;
        this.socket = socket;
        this.transport = transport;

        // Up to 384 KiB ahead of the socket before a flush waits (Kestrel's own output pipe: 64 KiB), so a body written
        // in pieces (a sealed blob's decrypted segments) is produced while the last pieces are still being sent, not in
        // turns with them: sealed pulls ~1.25 x the MB/s at ~0.85 x the CPU per GB of a 64 KiB pipe. 512 KiB and 1 MiB
        // read faster alone but cost 2-4 x the memory per pull under 200 concurrent pulls (bench/RESULTS.md, "Sealed
        // pulls into the response's memory"). Small responses never come near it. The sends run on the thread pool
        // (sending inline, on the thread that flushes, cost 6.5 us more CPU per small request in paired runs:
        // "Plaintext blobs with sendfile").
        pipe = new Pipe(new PipeOptions(pool, PipeScheduler.ThreadPool, PipeScheduler.ThreadPool, PauseWriterThreshold, PauseWriterThreshold / 2, useSynchronizationContext: false));
        writer = new CountingWriter(pipe.Writer);
    }

    public PipeReader Input => transport.Input;

    public PipeWriter Output => writer;

    /// <summary>Adds the middleware to a listener without TLS; <paramref name="stats"/> counts what it sends.</summary>
    public static void Use(ListenOptions listen, SendfileStats stats) => listen.Use(next => connection => RunAsync(stats, connection, next));

    /// <summary>The connection's sendfile path for this request, or null when its bytes must be copied (TLS, HTTP/2, no socket).</summary>
    public static SendfileConnection? Of(HttpContext context) =>
        HttpProtocol.IsHttp11(context.Request.Protocol)
        && context.Features.Get<IConnectionItemsFeature>()?.Items is { } items
        && items.TryGetValue(ItemKey, out var value)
            ? value as SendfileConnection
            : null;

    /// <summary>
    /// Sends <paramref name="file"/>'s remaining bytes as the body of <paramref name="response"/>, whose status and
    /// headers (<c>Content-Length</c> = the region's length) are set and not yet sent. Returns the bytes sent; throws
    /// (and the connection is closed) when they could not all be sent.
    /// </summary>
    public async Task<long> SendAsync(HttpResponse response, IFileRegion file, CancellationToken cancellationToken)
    {
        var length = file.Remaining;
        await response.StartAsync(cancellationToken);
        var body = response.BodyWriter;
        await body.FlushAsync(cancellationToken);

        // Everything Kestrel has written is flushed, so the body starts at the pipe's end.
        var sent = new Region(writer.Written, length, file, new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
        Volatile.Write(ref region, sent);
        var left = length;
        var unflushed = 0L;
        while (left > 0)
        {
            var step = (int)Math.Min(left, PlaceholderBlock);
            body.GetMemory(step);
            body.Advance(step);
            left -= step;
            unflushed += step;
            if (unflushed >= PlaceholderFlush || left == 0)
            {
                unflushed = 0;
                var flushed = await body.FlushAsync(cancellationToken);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }

        return await sent.Done.Task.WaitAsync(cancellationToken);
    }

    private static async Task RunAsync(SendfileStats stats, ConnectionContext connection, ConnectionDelegate next)
    {
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { ProtocolType: ProtocolType.Tcp } socket)
        {
            await next(connection);
            return;
        }

        var original = connection.Transport;
        var pool = connection.Features.Get<IMemoryPoolFeature>()?.MemoryPool ?? MemoryPool<byte>.Shared;
        var sendfile = new SendfileConnection(stats, connection, socket, original, pool);
        connection.Transport = sendfile;
        connection.Items[ItemKey] = sendfile;
        var sending = sendfile.SendLoopAsync();
        try
        {
            await next(connection);
        }
        finally
        {
            await sendfile.pipe.Writer.CompleteAsync();
            await sending;
            connection.Transport = original;
            connection.Items.Remove(ItemKey);

            // The socket transport's own sender, idle until now, shuts the socket down.
            await original.Output.CompleteAsync();
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = pipe.Reader;
        long consumed = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    var current = Volatile.Read(ref region);
                    if (current is null || consumed < current.Start)
                    {
                        var count = current is null ? buffer.Length : Math.Min(buffer.Length, current.Start - consumed);
                        await SendBytesAsync(buffer.Slice(0, count));
                        buffer = buffer.Slice(count);
                        consumed += count;
                        continue;
                    }

                    // The body's first placeholder byte is here: the file goes out in its place, then the
                    // placeholders are dropped as they come.
                    if (!current.Started)
                    {
                        current.Started = true;
                        await SendFileAsync(current);
                    }

                    var skip = Math.Min(buffer.Length, current.Start + current.Length - consumed);
                    buffer = buffer.Slice(skip);
                    consumed += skip;
                    if (consumed == current.Start + current.Length)
                    {
                        Volatile.Write(ref region, null);
                        current.Done.TrySetResult(current.Length);
                    }
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // Kestrel finished the connection with a body still owed (its request failed part-way): the response
            // waiting on it learns so instead of waiting for its request to be aborted.
            Volatile.Read(ref region)?.Done.TrySetException(new ConnectionAbortedException("The connection ended before the body was sent."));
            await reader.CompleteAsync();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The client went away or the file could not be sent whole: Kestrel's next write learns it from the
            // completed pipe, the request is aborted, and the connection closes.
            Volatile.Read(ref region)?.Done.TrySetException(e);
            await reader.CompleteAsync(e);
            connection.Abort(new ConnectionAbortedException("The response could not be sent.", e));
        }
    }

    /// <summary>
    /// Sends <paramref name="buffer"/>: a buffer of several pieces with one <c>sendmsg(2)</c> per
    /// <see cref="MaxSendSegments"/> of them, as Kestrel's socket transport sends (a body written in 64 KiB pieces, a
    /// sealed blob's decrypted segments, goes out in a few calls, not one per piece).
    /// </summary>
    private async ValueTask SendBytesAsync(ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (buffer.IsSingleSegment || !TryFillSendList(buffer))
            {
                // One piece, or a piece that is not an array's: each piece on its own.
                foreach (var piece in buffer)
                {
                    var memory = piece;
                    while (!memory.IsEmpty)
                    {
                        memory = memory[await socket.SendAsync(memory, SocketFlags.None)..];
                    }
                }

                return;
            }

            buffer = buffer.Slice(await socket.SendAsync(sendList, SocketFlags.None));
        }
    }

    /// <summary>The first <see cref="MaxSendSegments"/> pieces of <paramref name="buffer"/> into <see cref="sendList"/>; false when one is not an array's.</summary>
    private bool TryFillSendList(ReadOnlySequence<byte> buffer)
    {
        sendList.Clear();
        foreach (var memory in buffer)
        {
            if (!MemoryMarshal.TryGetArray(memory, out var segment))
            {
                sendList.Clear();
                return false;
            }

            if (segment.Count > 0)
            {
                sendList.Add(segment);
                if (sendList.Count == MaxSendSegments)
                {
                    break;
                }
            }
        }

        return sendList.Count > 0;
    }

    private async Task SendFileAsync(Region current)
    {
        // A FileStream over the store's handle for SendPacketsElement. Disposing it closes the handle, which the read
        // stream would close next anyway (a SafeHandle closes once): nothing reads the file after this.
        await using var stream = new FileStream(current.File.Handle, FileAccess.Read, 0, current.File.Handle.IsAsync);
        var offset = current.File.Offset;
        var left = current.Length;
        while (left > 0)
        {
            var count = (int)Math.Min(left, MaxElement);
            var done = await SendPacketsAsync(new SendPacketsElement(stream, offset, count));
            if (done != count)
            {
                throw new IOException($"sendfile sent {done} of {count} bytes.");
            }

            offset += count;
            left -= count;
        }

        stats.Sent(current.Length);
    }

    private Task<long> SendPacketsAsync(SendPacketsElement element)
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var args = new SocketAsyncEventArgs { SendPacketsElements = [element] };
        args.Completed += (_, e) => Finish(e, done);
        if (!socket.SendPacketsAsync(args))
        {
            Finish(args, done);
        }

        return done.Task;

        static void Finish(SocketAsyncEventArgs e, TaskCompletionSource<long> done)
        {
            if (e.SocketError == SocketError.Success)
            {
                done.TrySetResult(e.BytesTransferred);
            }
            else
            {
                done.TrySetException(new SocketException((int)e.SocketError));
            }

            e.Dispose();
        }
    }

    /// <summary>A body sent with sendfile: where it starts in the output, its length, its file, and when it is done.</summary>
    private sealed class Region(long start, long length, IFileRegion file, TaskCompletionSource<long> done)
    {
        public long Start => start;

        public long Length => length;

        public IFileRegion File => file;

        public TaskCompletionSource<long> Done => done;

        public bool Started { get; set; }
    }

    /// <summary>The pipe's writer, counting the bytes Kestrel commits to it (<see cref="Written"/>).</summary>
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        private long written;

        public long Written => Interlocked.Read(ref written);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            inner.Advance(bytes);
            Interlocked.Add(ref written, bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref written, source.Length);
            return inner.WriteAsync(source, cancellationToken);
        }
    }
}

/// <summary>What this server's listeners sent with sendfile (<see cref="SendfileConnection"/>): bodies and bytes.</summary>
internal sealed class SendfileStats
{
    private long bodies;
    private long bytes;

    public long Bodies => Interlocked.Read(ref bodies);

    public long Bytes => Interlocked.Read(ref bytes);

    internal void Sent(long count)
    {
        Interlocked.Increment(ref bodies);
        Interlocked.Add(ref bytes, count);
    }
}

