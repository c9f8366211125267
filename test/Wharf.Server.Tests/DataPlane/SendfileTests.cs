using System.Net;
using System.Net.Sockets;
using System.Text;
using Wharf.Server.Hosting;
using Wharf.Server.Tests.Hosting;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.DataPlane;

/// <summary>
/// Plaintext blobs on plaintext HTTP/1.1 connections go out with sendfile (<see cref="SendfileConnection"/>): the exact
/// bytes, in order with everything else on the connection, ranges included, keep-alive kept; sealed blobs, small
/// blobs and TLS connections are copied as before.
/// </summary>
public sealed class SendfileTests
{
    private const int Big = 3 * 1024 * 1024 + 17;

    private static Dictionary<string, string?> Plaintext() => new() { ["Encryption:Enabled"] = "false" };

    [Fact]
    public async Task Pipelined_requests_on_one_connection_get_the_exact_bytes_in_order_and_the_connection_stays_open()
    {
        await using var server = await WharfTestServer.StartAsync(Plaintext());
        using var client = server.CreateClient();
        var blob = Oci.RandomBytes(Big);
        var small = Oci.RandomBytes(1000);
        var digest = await Oci.PushBlobAsync(client, "sendfile/pipe", blob);
        var smallDigest = await Oci.PushBlobAsync(client, "sendfile/pipe", small);
        var stats = server.GetService<SendfileStats>();
        var (bodies, bytes) = (stats.Bodies, stats.Bytes);

        // Four requests written at once, before any answer is read: the blob, a range of it, a small blob (copied,
        // below sendfile's minimum) and the blob again, then GET /v2/. Each answer must follow the previous one whole.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Oci.Ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var requests = new StringBuilder()
            .Append(Get($"/v2/sendfile/pipe/blobs/{digest}"))
            .Append(Get($"/v2/sendfile/pipe/blobs/{digest}", "Range: bytes=1000-400999\r\n"))
            .Append(Get($"/v2/sendfile/pipe/blobs/{smallDigest}"))
            .Append(Get($"/v2/sendfile/pipe/blobs/{digest}"))
            .Append(Get("/v2/"))
            .ToString();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests), Oci.Ct);

        var reader = new ResponseReader(stream);
        var whole = await reader.ReadAsync();
        Assert.Equal(200, whole.Status);
        Assert.Equal(blob, whole.Body);
        Assert.Equal(digest, whole.Headers["docker-content-digest"]);

        var range = await reader.ReadAsync();
        Assert.Equal(206, range.Status);
        Assert.Equal($"bytes 1000-400999/{Big}", range.Headers["content-range"]);
        Assert.Equal(blob[1000..401000], range.Body);

        var copied = await reader.ReadAsync();
        Assert.Equal(200, copied.Status);
        Assert.Equal(small, copied.Body);

        var again = await reader.ReadAsync();
        Assert.Equal(blob, again.Body);

        var root = await reader.ReadAsync();
        Assert.Equal(200, root.Status);
        Assert.Equal("{}", Encoding.UTF8.GetString(root.Body));

        // The three large bodies went with sendfile, the small one did not.
        Assert.Equal(bodies + 3, stats.Bodies);
        Assert.Equal(bytes + Big + 400_000 + Big, stats.Bytes);

        // Still the same connection: a sixth request is answered on it.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(Get($"/v2/sendfile/pipe/blobs/{digest}", "Range: bytes=0-9\r\n")), Oci.Ct);
        var tail = await reader.ReadAsync();
        Assert.Equal(206, tail.Status);
        Assert.Equal(blob[..10], tail.Body);
    }

    [Fact]
    public async Task Sealed_blobs_pipelined_on_one_connection_come_whole_and_in_order_to_a_slow_reader()
    {
        // A sealed blob is decrypted in batches straight into the response and sent several pieces per sendmsg, up to
        // the connection pipe's threshold ahead of the socket: a reader that takes its bytes slowly still gets every
        // body whole, each answer after the previous one, the ranges' partial first and last segments included.
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        var blob = Oci.RandomBytes(Big);
        var digest = await Oci.PushBlobAsync(client, "sendfile/sealed-pipe", blob);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Oci.Ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var requests = new StringBuilder()
            .Append(Get($"/v2/sendfile/sealed-pipe/blobs/{digest}"))
            .Append(Get($"/v2/sendfile/sealed-pipe/blobs/{digest}", "Range: bytes=65535-2162700\r\n"))
            .Append(Get($"/v2/sendfile/sealed-pipe/blobs/{digest}"))
            .Append(Get("/v2/"))
            .ToString();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests), Oci.Ct);

        // Let the server run ahead until TCP holds it back, then read in small pieces.
        await Task.Delay(300, Oci.Ct);
        var reader = new ResponseReader(new SlowStream(stream));
        var first = await reader.ReadAsync();
        Assert.Equal(200, first.Status);
        Assert.Equal(blob, first.Body);

        var range = await reader.ReadAsync();
        Assert.Equal(206, range.Status);
        Assert.Equal($"bytes 65535-2162700/{Big}", range.Headers["content-range"]);
        Assert.Equal(blob[65535..2162701], range.Body);

        var again = await reader.ReadAsync();
        Assert.Equal(blob, again.Body);
        var root = await reader.ReadAsync();
        Assert.Equal(200, root.Status);
        Assert.Equal(0, server.GetService<SendfileStats>().Bodies);
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_body_leaves_the_server_serving()
    {
        await using var server = await WharfTestServer.StartAsync(Plaintext());
        using var client = server.CreateClient();
        var blob = Oci.RandomBytes(32 * 1024 * 1024);
        var digest = await Oci.PushBlobAsync(client, "sendfile/abort", blob);

        for (var i = 0; i < 5; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Oci.Ct);
            await socket.SendAsync(Encoding.ASCII.GetBytes(Get($"/v2/sendfile/abort/blobs/{digest}")), Oci.Ct);
            var buffer = new byte[64 * 1024];
            var got = 0;
            while (got < 1024 * 1024)
            {
                got += await socket.ReceiveAsync(buffer, Oci.Ct);
            }

            socket.Close(0); // a reset, mid-body
        }

        var bytes = await client.GetByteArrayAsync(new Uri($"/v2/sendfile/abort/blobs/{digest}", UriKind.Relative), Oci.Ct);
        Assert.Equal(digest, Oci.Sha256(bytes));
    }

    [Fact]
    public async Task Sealed_blobs_and_TLS_connections_are_copied_with_the_same_bytes()
    {
        // The default settings seal blobs: their bytes on disk are not the bytes sent, so never sendfile.
        await using var sealedServer = await WharfTestServer.StartAsync();
        using var sealedClient = sealedServer.CreateClient();
        var blob = Oci.RandomBytes(Big);
        var digest = await Oci.PushBlobAsync(sealedClient, "sendfile/sealed", blob);
        Assert.Equal(blob, await sealedClient.GetByteArrayAsync(new Uri($"/v2/sendfile/sealed/blobs/{digest}", UriKind.Relative), Oci.Ct));
        Assert.Equal(0, sealedServer.GetService<SendfileStats>().Bodies);

        // A plaintext blob on a TLS listener: its bytes must pass through the cipher, so copied (HTTP/2 by ALPN here).
        var directory = Path.Combine(Path.GetTempPath(), "wharf-sendfile-tls-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ca = await TestCertificateAuthority.CreateAsync(Path.Combine(directory, "ca"), "sendfile");
            var (certificate, key) = await ca.IssueServerAsync("server");
            var settings = Plaintext();
            settings["Tls:Certificate"] = certificate;
            settings["Tls:Key"] = key;
            await using var tls = await WharfTestServer.StartAsync(settings);
            using var client = new HttpClient(TestCertificateAuthority.TrustingHandler(ca.Root)) { BaseAddress = tls.BaseAddress };
            digest = await Oci.PushBlobAsync(client, "sendfile/tls", blob);
            foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v2/sendfile/tls/blobs/{digest}", UriKind.Relative)) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                using var response = await client.SendAsync(request, Oci.Ct);
                Assert.Equal(version, response.Version);
                Assert.Equal(blob, await response.Content.ReadAsByteArrayAsync(Oci.Ct));
            }

            Assert.Equal(0, tls.GetService<SendfileStats>().Bodies);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Skopeo_pulls_plaintext_layers_sent_with_sendfile_with_identical_digests()
    {
        await using var server = await WharfTestServer.StartAsync(Plaintext());
        using var client = server.CreateClient();
        var layers = new[] { Oci.RandomBytes(2 * 1024 * 1024), Oci.RandomBytes(700 * 1024) };
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        foreach (var b in layers.Append(config))
        {
            await Oci.PushBlobAsync(client, "sendfile/skopeo", b);
        }

        var manifest = Oci.Manifest(config, layers);
        (await Oci.PutManifestAsync(client, "sendfile/skopeo", "v1", manifest)).EnsureSuccessStatusCode();

        var outDir = Path.Combine(Path.GetTempPath(), "wharf-sendfile-" + Guid.NewGuid().ToString("N"));
        try
        {
            (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{server.HostAndPort}/sendfile/skopeo:v1", $"dir:{outDir}")).EnsureSuccess();
            foreach (var layer in layers)
            {
                var digest = Oci.Sha256(layer);
                Assert.Equal(layer, await File.ReadAllBytesAsync(Path.Combine(outDir, digest["sha256:".Length..]), Oci.Ct));
            }

            Assert.True(server.GetService<SendfileStats>().Bodies >= 2, "the two layers were not sent with sendfile");
        }
        finally
        {
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir, recursive: true);
            }
        }
    }

    private static string Get(string path, string extra = "") => $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n";

    private sealed record Response(int Status, Dictionary<string, string> Headers, byte[] Body);

    /// <summary>A reader that takes at most 8 KiB per read, pausing now and then.</summary>
    private sealed class SlowStream(Stream inner) : Stream
    {
        private int reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (++reads % 64 == 0)
            {
                await Task.Delay(2, cancellationToken);
            }

            return await inner.ReadAsync(buffer[..Math.Min(buffer.Length, 8 * 1024)], cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Reads HTTP/1.1 responses with Content-Length bodies off one connection, one after another.</summary>
    private sealed class ResponseReader(Stream stream)
    {
        private readonly byte[] buffer = new byte[64 * 1024];
        private int start;
        private int end;

        public async Task<Response> ReadAsync()
        {
            var head = new MemoryStream();
            while (true)
            {
                if (start == end)
                {
                    await FillAsync();
                }

                var b = buffer[start++];
                head.WriteByte(b);
                if (head.Length >= 4 && head.GetBuffer().AsSpan((int)head.Length - 4, 4).SequenceEqual("\r\n\r\n"u8))
                {
                    break;
                }
            }

            var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
            var length = int.Parse(headers["content-length"], System.Globalization.CultureInfo.InvariantCulture);
            var body = new byte[length];
            var got = 0;
            while (got < length)
            {
                if (start == end)
                {
                    await FillAsync();
                }

                var n = Math.Min(end - start, length - got);
                buffer.AsSpan(start, n).CopyTo(body.AsSpan(got));
                start += n;
                got += n;
            }

            return new Response(status, headers, body);
        }

        private async Task FillAsync()
        {
            start = 0;
            end = await stream.ReadAsync(buffer, Oci.Ct);
            Assert.True(end > 0, "the server closed the connection");
        }
    }
}
