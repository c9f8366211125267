using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Metadata;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// Per-caller limits (settings <c>Limits:*</c>), set low here: open upload sessions answer 429
/// <c>TOOMANYREQUESTS</c> on <c>/v2</c> and <c>ThrottlingException</c> on the ECR API; request bursts are
/// throttled in each protocol's shape and recover as the bucket refills.
/// </summary>
public sealed class RequestLimitTests
{
    [Fact]
    public async Task Upload_sessions_past_the_callers_limit_are_refused_on_v2_and_the_api_until_one_ends_or_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(
            new Dictionary<string, string?> { ["Limits:MaxOpenUploadsPerCaller"] = "2" },
            services: s => s.AddSingleton<TimeProvider>(time));
        using var client = server.CreateClient();

        var first = await StartUploadAsync(client);
        var second = await StartUploadAsync(client);
        using (var refused = await client.PostAsync("/v2/team/app/blobs/uploads/", null, Oci.Ct))
        {
            await Oci.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
            var (_, error) = await Oci.ErrorAsync(refused);
            Assert.Contains("Limits:MaxOpenUploadsPerCaller", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }

        // Each caller counts alone: in open mode a caller is its IP address.
        using (var elsewhere = ClientFrom(server, IPAddress.Parse("127.0.0.2")))
        {
            await StartUploadAsync(elsewhere);
        }

        // The layer-upload API opens sessions in the same registry: the same count.
        var cli = await AwsClients.CliAsync(
            server.BaseAddress, "us-east-1", new Dictionary<string, string> { ["AWS_MAX_ATTEMPTS"] = "1", ["AWS_RETRY_MODE"] = "standard" }, "ecr", "initiate-layer-upload", "--repository-name", "team/app");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("(ThrottlingException)", cli.StandardError, StringComparison.Ordinal);
        Assert.Contains("Limits:MaxOpenUploadsPerCaller", cli.StandardError, StringComparison.Ordinal);

        // A session ended on this node frees its place at once.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(first, Oci.Ct)).StatusCode);
        var third = await StartUploadAsync(client);

        // A session ended on another node (its row is gone) is found when the caller is at the limit,
        // looked up at most once a second.
        Assert.True(await server.GetService<IMetadataStore>().Uploads.DeleteAsync(second.OriginalString.Split('/')[^1], Oci.Ct));
        using (var stillRefused = await client.PostAsync("/v2/team/app/blobs/uploads/", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, stillRefused.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(1));
        await StartUploadAsync(client);

        // Completing a session ends it too; and sessions past Uploads:Expiry count no more.
        var blob = "limits"u8.ToArray();
        using (var complete = await client.PutAsync(new Uri(third + $"?digest={Wharf.Core.Primitives.Digest.Sha256Of(blob)}", UriKind.Relative), new ByteArrayContent(blob), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, complete.StatusCode);
        }

        await StartUploadAsync(client);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsync("/v2/team/app/blobs/uploads/", null, Oci.Ct)).StatusCode);
        time.Advance(TimeSpan.FromHours(24));
        await StartUploadAsync(client);
        await StartUploadAsync(client);
    }

    [Fact]
    public async Task Request_bursts_are_throttled_in_each_protocols_shape_and_recover()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Limits:Read:RequestsPerSecond"] = "1",
            ["Limits:Read:Burst"] = "3",
            ["Limits:Token:RequestsPerSecond"] = "1",
            ["Limits:Token:Burst"] = "2",
            ["Limits:Pull:RequestsPerSecond"] = "1",
            ["Limits:Pull:Burst"] = "2",
        });

        using var client = server.CreateClient();
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++)
        {
            statuses.Add(await client.GetAsync("/v2/", Oci.Ct));
        }

        // A burst of 2 at 1/s: past the first two, only what the seconds the loop took refilled passes.
        var throttled = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.InRange(throttled.Count, 2, 6);
        await Oci.AssertErrorAsync(throttled[0], HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
        Assert.InRange(throttled[0].Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        statuses.ForEach(r => r.Dispose());

        // Another class keeps its own bucket.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/_catalog", Oci.Ct)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/", Oci.Ct)).StatusCode);

        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "throttling.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, "us-east-1", new Dictionary<string, string> { ["WHARF_PREFIX"] = "limits" });
        Assert.True(result.ExitCode == 0, $"throttling.py failed:\n{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("all checks passed", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rate_without_a_burst_stops_the_server_at_start_with_the_setting_named()
    {
        var result = await WharfCommand.RunAsync(["serve", "--port", "0", "--public-port", "0", "--auth", "open", "--data-dir", Path.Combine(Path.GetTempPath(), "wharf-limits-" + Guid.NewGuid().ToString("N"))],
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["WHARF__Limits__Push__RequestsPerSecond"] = "10", ["WHARF__Limits__Push__Burst"] = "0" });

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Limits:Push is 10 requests per second with a burst of 0", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>A client whose connections come from <paramref name="source"/> (another loopback address).</summary>
    private static HttpClient ClientFrom(WharfTestServer server, IPAddress source) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = server.BaseAddress };

    private static async Task<Uri> StartUploadAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/v2/team/app/blobs/uploads/", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!;
    }
}
