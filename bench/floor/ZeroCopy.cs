using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

// The floor's sendfile prototype (bench/README.md, "The Kestrel floor"): a connection middleware puts a pipe of its own
// between Kestrel's HTTP/1.1 layer and the socket and becomes the only sender on the socket, so a handler can have a file
// range sent with sendfile(2) (SendPacketsAsync of a file element, which .NET runs as sendfile on Linux) in order with
// the bytes Kestrel wrote before it. Kestrel counts only the bytes written through it: a response that declares
// Content-Length and sends its body this way is an application error to Kestrel, which closes the connection after it
// (keep-alive lost); a body framed by the handler as one chunk (Transfer-Encoding: chunked set by the handler, so Kestrel
// does not frame it) keeps the connection. A measurement, not Wharf's code.
internal sealed class ZeroCopy : IDuplexPipe
{
    private static readonly ConcurrentDictionary<string, ZeroCopy> Connections = new();
    private readonly Socket _socket;
    private readonly IDuplexPipe _transport;
    private readonly Pipe _output = new(new PipeOptions(useSynchronizationContext: false));
    private (FileStream File, long Offset, int Count, TaskCompletionSource Done)? _pending;

    private ZeroCopy(Socket socket, IDuplexPipe transport)
    {
        _socket = socket;
        _transport = transport;
    }

    public PipeReader Input => _transport.Input;

    public PipeWriter Output => _output.Writer;

    public static ZeroCopy? Of(string connectionId) => Connections.TryGetValue(connectionId, out var z) ? z : null;

    public static async Task Middleware(ConnectionContext context, Func<Task> next)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null)
        {
            await next();
            return;
        }

        var original = context.Transport;
        var zc = new ZeroCopy(socket, original);
        Connections[context.ConnectionId] = zc;
        context.Transport = zc;
        var loop = zc.SendLoopAsync();
        try
        {
            await next();
        }
        finally
        {
            await zc._output.Writer.CompleteAsync();
            await loop;
            Connections.TryRemove(context.ConnectionId, out _);
            context.Transport = original;
            await original.Output.CompleteAsync();
        }
    }

    /// <summary>Sends <paramref name="count"/> bytes of the file from <paramref name="offset"/> after everything written to the output so far (flushed first).</summary>
    public Task SendFileAsync(FileStream file, long offset, int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending = (file, offset, count, done);
        _output.Reader.CancelPendingRead();
        return done.Task;
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                await SendAsync(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                if (_pending is { } p)
                {
                    // Whatever was flushed before the request is sent first.
                    while (reader.TryRead(out var more) && !more.Buffer.IsEmpty)
                    {
                        await SendAsync(more.Buffer);
                        reader.AdvanceTo(more.Buffer.End);
                    }

                    _pending = null;
                    try
                    {
                        await SendPacketsAsync(p.File, p.Offset, p.Count);
                        p.Done.SetResult();
                    }
                    catch (Exception e)
                    {
                        p.Done.SetException(e);
                        throw;
                    }
                }

                if (result.IsCompleted && _pending is null)
                {
                    break;
                }
            }
        }
        catch (SocketException)
        {
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        foreach (var segment in buffer)
        {
            var sent = 0;
            while (sent < segment.Length)
            {
                sent += await _socket.SendAsync(segment[sent..], SocketFlags.None);
            }
        }
    }

    private Task SendPacketsAsync(FileStream file, long offset, int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var args = new SocketAsyncEventArgs { SendPacketsElements = [new SendPacketsElement(file, offset, count)] };
        args.Completed += (_, e) => Finish(e, done);
        if (!_socket.SendPacketsAsync(args))
        {
            Finish(args, done);
        }

        return done.Task;

        static void Finish(SocketAsyncEventArgs e, TaskCompletionSource done)
        {
            if (e.SocketError == SocketError.Success)
            {
                done.SetResult();
            }
            else
            {
                done.SetException(new SocketException((int)e.SocketError));
            }

            e.Dispose();
        }
    }
}
