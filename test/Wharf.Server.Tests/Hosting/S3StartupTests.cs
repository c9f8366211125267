using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// The real server process on the S3 store, against a real RGW: a bucket it cannot use is refused at
/// start with one line that says why — and never shows the secret — and a usable one starts.
/// </summary>
public sealed class S3StartupTests : IDisposable
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-s3-startup-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dataDirectory))
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_bucket_that_does_not_exist_is_refused()
    {
        var rgw = await RgwServer.GetAsync();
        var bucket = "wharf-no-such-bucket-" + Guid.NewGuid().ToString("N")[..12];
        AssertRefused(await ServeAsync(Settings(rgw, bucket)), $"the S3 blob store is not usable: S3 bucket '{bucket}' does not exist", rgw.SecretKey);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused()
    {
        var rgw = await RgwServer.GetAsync();
        var settings = Settings(rgw, await rgw.CreateBucketAsync());
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        settings["WHARF__Storage__S3__SecretAccessKey"] = wrong;
        var refused = await ServeAsync(settings);
        AssertRefused(refused, "the S3 blob store is not usable: S3 at http://127.0.0.1", wrong);
        Assert.Contains("refused the credentials", refused.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_refused()
    {
        var rgw = await RgwServer.GetAsync();
        var settings = Settings(rgw, await rgw.CreateBucketAsync());
        var closed = $"http://127.0.0.1:{Ports.Free()}";
        settings["WHARF__Storage__S3__Endpoint"] = closed;
        AssertRefused(await ServeAsync(settings), $"the S3 blob store is not usable: S3 endpoint {closed} is unreachable", rgw.SecretKey);
    }

    [Fact]
    public async Task A_usable_bucket_starts_and_the_log_names_it_but_not_the_secret()
    {
        var rgw = await RgwServer.GetAsync();
        var bucket = await rgw.CreateBucketAsync();
        await using var server = await WharfProcess.StartAsync(dataDirectory, Settings(rgw, bucket));
        using (var client = new HttpClient { BaseAddress = server.BaseAddress })
        {
            using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(ready.IsSuccessStatusCode, body);
            Assert.Contains("\"blobs\":{\"backend\":\"s3\",\"status\":\"ok\"}", body, StringComparison.Ordinal);
        }

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"s3://{bucket}/", server.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(rgw.SecretKey, server.StandardOutput + server.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bucket_answering_503_for_a_while_is_asked_again_and_the_node_starts()
    {
        // Eight 503 SlowDown answers outlast the SDK's own retries, so only the start-up check's
        // retries get the node through; then an empty listing, as an idle bucket gives.
        var port = Ports.Free();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var requests = 0;
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                var busy = Interlocked.Increment(ref requests) <= 8;
                context.Response.StatusCode = busy ? 503 : 200;
                context.Response.ContentType = "application/xml";
                var body = busy
                    ? "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>try later</Message></Error>"
                    : "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>busy</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>";
                if (context.Request.HttpMethod != "HEAD")
                {
                    await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
                }

                context.Response.Close();
            }
        }, TestContext.Current.CancellationToken);

        var settings = new Dictionary<string, string>
        {
            ["WHARF__Storage__Backend"] = "S3",
            ["WHARF__Storage__S3__Bucket"] = "busy",
            ["WHARF__Storage__S3__Endpoint"] = $"http://127.0.0.1:{port}",
            ["WHARF__Storage__S3__ForcePathStyle"] = "true",
            ["WHARF__Storage__S3__AccessKeyId"] = "AKIDEXAMPLEBUSY00001",
            ["WHARF__Storage__S3__SecretAccessKey"] = "busy-secret-" + Guid.NewGuid().ToString("N"),
        };
        await using (var server = await WharfProcess.StartAsync(dataDirectory, settings))
        {
            Assert.True(Volatile.Read(ref requests) > 8, $"{requests} requests");
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        listener.Stop();
        await serving;
    }

    private static Dictionary<string, string> Settings(RgwServer rgw, string bucket) =>
        WharfTestServer.S3Settings(rgw, bucket).ToDictionary(s => "WHARF__" + s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);

    private Task<ProcessResult> ServeAsync(Dictionary<string, string> environment)
    {
        environment.TryAdd("WHARF__Auth", "Open");
        return WharfCommand.RunAsync(["serve", "--data-dir", dataDirectory, "--port", "0", "--public-port", "0"], TimeSpan.FromSeconds(90), environment);
    }

    private static void AssertRefused(ProcessResult result, string expected, string secret)
    {
        StartupTests.AssertRefused(result, expected);
        Assert.DoesNotContain(secret, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }
}
