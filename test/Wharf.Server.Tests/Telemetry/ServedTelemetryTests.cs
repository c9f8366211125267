using System.Net;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Telemetry;

/// <summary>
/// The built <c>wharf</c> as a process, one per test, so that what it reports is its own: the store gauges (open
/// uploads, the scan queue), traces exported over OTLP to a real receiver, and JSON log lines carrying the request id
/// the client saw.
/// </summary>
public sealed class ServedTelemetryTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly string data = Path.Combine(Path.GetTempPath(), "wharf-telemetry-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_gauges_follow_open_uploads_and_pending_scans_and_text_logs_carry_the_request_id()
    {
        await using var server = await WharfProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["WHARF__Scanning__Interval"] = "01:00:00",
            ["WHARF__Logging__LogLevel__Wharf.Requests"] = "Debug",
        });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        var metrics = new Uri(server.BaseAddress, "metrics");

        using var start = await client.PostAsync("/v2/telemetry/gauges/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var requestId = start.Headers.GetValues("Docker-Request-Id").Single();
        Assert.True(Guid.TryParse(requestId, out _));
        await UntilAsync(client, metrics, s => s.Sum("wharf_uploads_open") == 1, "wharf_uploads_open to be 1 with an upload open");

        using (var cancel = await client.DeleteAsync(start.Headers.Location, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        await UntilAsync(client, metrics, s => s.Has("wharf_uploads_open") && s.Sum("wharf_uploads_open") == 0, "wharf_uploads_open to be 0 once the upload is cancelled");

        var pusher = new OciPusher(client);
        var layer = Encoding.UTF8.GetBytes("telemetry layer " + Guid.NewGuid());
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        await pusher.PushBlobMonolithicAsync("telemetry/scanned", layer, Ct);
        await pusher.PushBlobMonolithicAsync("telemetry/scanned", config, Ct);
        await pusher.PushManifestAsync("telemetry/scanned", "1", config, [layer], Ct);
        var (status, body, _) = await EcrHttp.CallAsync(client, "StartImageScan", "{\"repositoryName\":\"telemetry/scanned\",\"imageId\":{\"imageTag\":\"1\"}}");
        Assert.True(status == 200, body.RootElement.ToString());
        await UntilAsync(client, metrics, s => s.Sum("wharf_scans_pending") >= 1, "wharf_scans_pending to count the requested scan");

        // The text format shows the request's scope on the lines written for it.
        await UntilAsync(() => server.StandardOutput.Contains("RequestId:" + requestId, StringComparison.Ordinal), $"a log line with RequestId:{requestId}\n{server.StandardOutput}");
    }

    [Fact]
    public async Task Traces_are_exported_over_otlp_with_a_span_per_request_and_store_call_and_no_secrets()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await WharfProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        // The client's trace: the server's span joins it.
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v2/telemetry/traced/manifests/latest"))
        {
            request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer secret-bearer-token-4711");
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var (status, _, _) = await EcrHttp.CallAsync(client, "DescribeRepositories", "{}");
        Assert.Equal(200, status);
        using (var layers = await client.GetAsync("/layers/secret-download-token-4711?X-Amz-Signature=secret-signature-4711", Ct))
        {
            Assert.NotEqual(HttpStatusCode.InternalServerError, layers.StatusCode);
        }

        await UntilAsync(
            () => receiver.Spans() is var spans
                && spans.Any(s => s.Name == "v2 GetManifest" && s.TraceId == traceId && s.ParentSpanId == "00f067aa0ba902b7")
                && spans.Any(s => s.Name == "ecr DescribeRepositories")
                && spans.Any(s => s.Name.StartsWith("other", StringComparison.Ordinal)),
            $"the request spans; got: {string.Join(", ", receiver.Spans().Select(s => s.Name))}");

        var all = receiver.Spans();
        var manifestSpan = all.Single(s => s.Name == "v2 GetManifest" && s.TraceId == traceId);
        Assert.Equal("wharf", manifestSpan.Service);
        Assert.Contains(all, s => s.TraceId == traceId && s.ParentSpanId == manifestSpan.SpanId && s.Name.StartsWith("RepositoryStore.", StringComparison.Ordinal));

        var bytes = receiver.Exports.SelectMany(e => e).ToArray();
        foreach (var secret in new[] { "secret-bearer-token-4711", "secret-download-token-4711", "secret-signature-4711", "Signature=0000" })
        {
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{secret} was exported");
        }
    }

    [Fact]
    public async Task Json_logs_are_one_object_per_line_and_a_request_s_lines_carry_the_id_it_was_answered_with()
    {
        await using var server = await WharfProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["WHARF__Telemetry__Logs__Format"] = "Json",
            ["WHARF__Logging__LogLevel__Wharf.Requests"] = "Debug",
        });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await client.GetAsync("/v2/telemetry/missing/manifests/latest", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var requestId = response.Headers.GetValues("Docker-Request-Id").Single();
        using var api = await client.SendAsync(EcrHttp.Request("DescribeImages", "{\"repositoryName\":\"telemetry/missing\"}"), Ct);
        var apiId = api.Headers.GetValues("x-amzn-RequestId").Single();

        await UntilAsync(() => server.StandardOutput.Contains(requestId, StringComparison.Ordinal) && server.StandardOutput.Contains(apiId, StringComparison.Ordinal), "the requests' log lines");
        var lines = server.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.Contains("\"Wharf listening on ", StringComparison.Ordinal));
        var ofRequest = new List<JsonElement>();
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            var root = entry.RootElement;
            Assert.True(root.TryGetProperty("Timestamp", out _), line);
            Assert.True(root.TryGetProperty("LogLevel", out _), line);
            Assert.True(root.TryGetProperty("Category", out _), line);
            Assert.True(root.TryGetProperty("EventId", out _), line);
            Assert.True(root.TryGetProperty("Message", out _), line);
            var ids = root.TryGetProperty("Scopes", out var scopes)
                ? scopes.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("RequestId", out _)).Select(s => s.GetProperty("RequestId").GetString()).ToList()
                : [];
            Assert.True(ids.Count <= 1, $"more than one request id on {line}");
            if (ids.Count == 1 && ids[0] == requestId)
            {
                ofRequest.Add(root.Clone());
            }
        }

        var completed = Assert.Single(ofRequest, e => e.GetProperty("Category").GetString() == "Wharf.Requests");
        Assert.Equal(1900, completed.GetProperty("EventId").GetInt32());
        Assert.Contains("v2 GetManifest answered 404", completed.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Contains("NAME_UNKNOWN", completed.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains(apiId, StringComparison.Ordinal) && l.Contains("ecr DescribeImages answered 400", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task UntilAsync(HttpClient client, Uri metrics, Func<Scrape, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        Scrape? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Scrape.GetAsync(client, metrics, Ct);
            if (condition(last))
            {
                return;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"waited {Deadline.TotalSeconds} s for {what}; last scrape:\n{last?.Text}");
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"waited {Deadline.TotalSeconds} s for {what}");
    }
}
