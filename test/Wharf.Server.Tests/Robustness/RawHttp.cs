using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Server.Tests.Robustness;

/// <summary>What came back on a raw connection: the status (0 when the server closed without answering) and the bytes.</summary>
internal sealed record RawResponse(int Status, byte[] Bytes, bool TimedOut)
{
    public string Text => Encoding.UTF8.GetString(Bytes);

    /// <summary>The body after the blank line (responses here are never chunked: every error writer sets Content-Length).</summary>
    public string Body => Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0 ? Text[(end + 4)..] : string.Empty;

    public string? Header(string name)
    {
        foreach (var line in Text.Split("\r\n\r\n", 2)[0].Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && string.Equals(line[..colon], name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient refuses to send: any bytes in the request line and
/// headers, lying Content-Lengths, broken chunking, half-closed connections.
/// </summary>
internal static class RawHttp
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A request with <c>Host</c>, <c>Content-Length</c> (unless given or chunked) and <c>Connection: close</c>.</summary>
    public static byte[] Build(string method, string target, Uri server, IEnumerable<(string Name, string Value)> headers, byte[] body, bool contentLength = true)
    {
        var head = new StringBuilder().Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Host).Append(':').Append(server.Port.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (contentLength)
        {
            head.Append("Content-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }

    /// <summary>
    /// Sends <paramref name="request"/> and reads until the server closes. <paramref name="halfClose"/>
    /// ends the sending side (Kestrel then sees the body end early); otherwise the request must be complete.
    /// </summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] request, bool halfClose = false)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, TestContext.Current.CancellationToken);
        await client.ConnectAsync(IPAddress.Loopback, server.Port, linked.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, linked.Token);
            if (halfClose)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server may answer and close before reading all of a body it refuses.
        }

        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var timedOut = false;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, linked.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            timedOut = true;
        }

        var bytes = received.ToArray();
        var status = 0;
        if (bytes.Length >= 12 && bytes.AsSpan(0, 5).SequenceEqual("HTTP/"u8))
        {
            _ = int.TryParse(Encoding.ASCII.GetString(bytes, 9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out status);
        }

        return new RawResponse(status, bytes, timedOut);
    }
}

/// <summary>An access key, and SigV4 header signing as botocore does it (written out here so a test never trusts the server's own code).</summary>
internal sealed record AwsKey(string Id, string Secret)
{
    public static AwsKey From(Dictionary<string, string> credentials) => new(credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"]);

    /// <summary>
    /// Adds <c>X-Amz-Date</c> and the <c>Authorization</c> header covering every given header, the host and the body.
    /// </summary>
    public List<(string Name, string Value)> Sign(Uri server, string method, string path, List<(string Name, string Value)> headers, byte[] body, string service, string region)
    {
        var now = DateTimeOffset.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var all = new List<(string Name, string Value)>(headers) { ("X-Amz-Date", amzDate) };
        var canonical = all.Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value.Trim()))
            .Append((Name: "host", Value: $"{server.Host}:{server.Port}"))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        var signedHeaders = string.Join(';', canonical.Select(h => h.Name));
        var canonicalRequest = $"{method}\n{path}\n\n{string.Concat(canonical.Select(h => $"{h.Name}:{h.Value}\n"))}\n{signedHeaders}\n{Hex(SHA256.HashData(body))}";
        var scope = $"{date}/{region}/{service}/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + Secret);
        foreach (var part in new[] { date, region, service, "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        all.Add(("Authorization", $"AWS4-HMAC-SHA256 Credential={Id}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}"));
        return all;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
