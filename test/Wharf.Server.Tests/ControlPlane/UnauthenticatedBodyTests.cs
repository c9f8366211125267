using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// Bodies an unauthenticated caller sends are capped before anything is known about the caller:
/// chunked POSTs of hundreds of MiB to the Query API and the JSON API (a small operation, and
/// <c>UploadLayerPart</c> unsigned or signed by a key that does not exist), and manifest and blob
/// uploads on <c>/v2</c> without a password, are each refused in the protocol's shape, and the server
/// process — run under a hard GC heap limit — keeps its peak resident memory within a small bound of
/// where it started.
/// </summary>
public sealed class UnauthenticatedBodyTests
{
    private const long BodyBytes = 300L * 1024 * 1024;
    private const long PeakGrowthBound = 96L * 1024 * 1024;

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Huge_chunked_bodies_before_authentication_are_refused_without_growing_the_server()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wharf-body-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await WharfProcess.StartAsync(dir, new Dictionary<string, string>
            {
                ["WHARF__Auth"] = "Iam",
                ["DOTNET_GCHeapHardLimit"] = "0x10000000", // 256 MiB: buffering one body would not fit
            });
            var form = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
            var json = ("Content-Type", "application/x-amz-json-1.1");
            const string Target = "AmazonEC2ContainerRegistry_V20150921.";
            var fakeKey = ("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEY0000000/{DateTime.UtcNow:yyyyMMdd}/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature={new string('0', 64)}");
            var now = ("X-Amz-Date", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));

            // Warm up every path once (models loaded, code jitted), then take the baseline.
            await SendAsync(server.Port, [form], 10);
            await SendAsync(server.Port, [json, ("X-Amz-Target", Target + "DescribeRepositories")], 10);
            var baseline = PeakResident(server.ProcessId);

            for (var i = 0; i < 3; i++)
            {
                var query = await SendAsync(server.Port, [form], BodyBytes);
                Assert.True(query.Status == 400, query.Text);
                Assert.Contains("<Code>ValidationError</Code>", query.Text, StringComparison.Ordinal);

                var small = await SendAsync(server.Port, [json, ("X-Amz-Target", Target + "DescribeRepositories")], BodyBytes);
                Assert.True(small.Status == 413, small.Text);
                Assert.Contains("\"__type\":\"RequestEntityTooLargeException\"", small.Text, StringComparison.Ordinal);

                var unsigned = await SendAsync(server.Port, [json, ("X-Amz-Target", Target + "UploadLayerPart")], BodyBytes);
                Assert.True(unsigned.Status is 400 or 403, unsigned.Text);
                Assert.Contains("\"__type\":\"MissingAuthenticationTokenException\"", unsigned.Text, StringComparison.Ordinal);

                var unknownKey = await SendAsync(server.Port, [json, ("X-Amz-Target", Target + "UploadLayerPart"), fakeKey, now], BodyBytes);
                Assert.True(unknownKey.Status == 400, unknownKey.Text);
                Assert.Contains("\"__type\":\"UnrecognizedClientException\"", unknownKey.Text, StringComparison.Ordinal);

                // /v2 checks the password before it reads anything.
                foreach (var v2 in new[] { "PUT /v2/big/app/manifests/latest", "POST /v2/big/app/blobs/uploads/?digest=sha256:" + new string('0', 64) })
                {
                    var registry = await SendAsync(server.Port, [("Content-Type", "application/octet-stream")], BodyBytes, v2);
                    Assert.True(registry.Status == 401, registry.Text);
                    Assert.Contains("\"code\":\"UNAUTHORIZED\"", registry.Text, StringComparison.Ordinal);
                }
            }

            var peak = PeakResident(server.ProcessId);
            Assert.False(server.HasExited, server.StandardError);
            Assert.True(peak - baseline < PeakGrowthBound, $"peak resident memory grew from {baseline >> 20} MiB to {peak >> 20} MiB");

            // And it still answers.
            var after = await SendAsync(server.Port, [form], 10);
            Assert.True(after.Status is 400 or 403, after.Text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // VmHWM: the process's peak resident set, so a body held for a moment shows too.
    private static long PeakResident(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// A chunked POST of <paramref name="bytes"/> generated as it is sent, over a raw socket so that the
    /// answer is read while the body is still being written (the server answers long before the end,
    /// and then stops reading). Returns the status and the response's text.
    /// </summary>
    private static async Task<(int Status, string Text)> SendAsync(int port, (string Name, string Value)[] headers, long bytes, string target = "POST /")
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port, timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var head = new StringBuilder($"{target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), timeout.Token);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var writer = WriteBodyAsync(stream, bytes, stop.Token);
        var response = await ReadResponseAsync(stream, timeout.Token);
        await stop.CancelAsync();
        try
        {
            await writer;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            // The server stopped reading: expected.
        }

        return response;
    }

    private static async Task WriteBodyAsync(NetworkStream stream, long bytes, CancellationToken cancellationToken)
    {
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill((byte)'a');
        "Action=GetCallerIdentity&Version=2011-06-15&Pad="u8.CopyTo(chunk);
        var header = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            var size = (int)Math.Min(chunk.Length, bytes - sent);
            await stream.WriteAsync(size == chunk.Length ? header : Encoding.ASCII.GetBytes($"{size:x}\r\n"), cancellationToken);
            await stream.WriteAsync(chunk.AsMemory(0, size), cancellationToken);
            await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
        }

        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
    }

    // Status line, headers, then Content-Length bytes (the error writers always send one).
    private static async Task<(int Status, string Text)> ReadResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[8192];
        int? end = null;
        var length = 0;
        while (end is null || received.Count < end + length)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read));
            if (end is null)
            {
                var text = Encoding.ASCII.GetString([.. received]);
                var blank = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (blank >= 0)
                {
                    end = blank + 4;
                    var header = text[..blank].Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                    length = header is null ? 0 : int.Parse(header["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                }
            }
        }

        var all = Encoding.UTF8.GetString([.. received]);
        var status = all.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(all.AsSpan(9, 3), CultureInfo.InvariantCulture) : 0;
        return (status, all);
    }
}
