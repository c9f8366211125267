using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Robustness;

/// <summary>
/// The two servers the fuzz tests share: one in open mode (every body reaches the operations) and one in
/// IAM mode (signed and unsigned callers), each holding a pushed image, with the logs they wrote.
/// </summary>
public sealed partial class FuzzServers : IAsyncLifetime
{
    public const string Region = "us-east-1";
    public const string Repository = "fuzz/app";

    /// <summary>The run's seed: fixed, so a failure replays; <c>WHARF_FUZZ_SEED</c> explores others.</summary>
    public static readonly int Seed = Environment.GetEnvironmentVariable("WHARF_FUZZ_SEED") is { Length: > 0 } text
        ? int.Parse(text, CultureInfo.InvariantCulture)
        : 20261205;

    private readonly ConcurrentQueue<string> uploads = new();

    internal CapturedLogs OpenLogs { get; } = new();

    internal CapturedLogs IamLogs { get; } = new();

    internal WharfTestServer Open { get; private set; } = null!;

    internal WharfTestServer Iam { get; private set; } = null!;

    internal AwsKey Root { get; private set; } = null!;

    /// <summary>The IAM server's /v2 credentials, <c>Basic base64(AWS:password)</c>.</summary>
    internal string IamToken { get; private set; } = null!;

    internal byte[] Manifest { get; private set; } = [];

    internal string ManifestDigest { get; private set; } = string.Empty;

    internal IReadOnlyList<string> BlobDigests { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        Open = await WharfTestServer.StartAsync(services: s => s.AddSingleton<ILoggerProvider>(OpenLogs));
        Iam = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<ILoggerProvider>(IamLogs));
        Root = AwsKey.From(AwsClients.ReadCredentialsFile(Path.Combine(Iam.DataDirectory, "root-credentials")));

        var tokenResponse = await RawHttp.SendAsync(Iam.BaseAddress, EcrRequest(Iam, "GetAuthorizationToken", "{}"u8.ToArray(), Root));
        Assert.Equal(200, tokenResponse.Status);
        using (var json = JsonDocument.Parse(tokenResponse.Body))
        {
            IamToken = "Basic " + json.RootElement.GetProperty("authorizationData")[0].GetProperty("authorizationToken").GetString();
        }

        using var openClient = Open.CreateClient();
        using var iamClient = Iam.CreateClient();
        iamClient.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(IamToken);
        Manifest = await Oci.PushImageAsync(openClient, Repository, "v1");
        Assert.Equal(200, (await RawHttp.SendAsync(Iam.BaseAddress, EcrRequest(Iam, "CreateRepository", Encoding.UTF8.GetBytes($"{{\"repositoryName\":\"{Repository}\"}}"), Root))).Status);
        var config = JsonNode.Parse(Manifest)!["config"]!["digest"]!.GetValue<string>();
        var layers = JsonNode.Parse(Manifest)!["layers"]!.AsArray().Select(l => l!["digest"]!.GetValue<string>());
        BlobDigests = [config, .. layers];
        ManifestDigest = Oci.Sha256(Manifest);

        // The same image in the IAM server, pushed as a token holder does.
        foreach (var digest in BlobDigests)
        {
            var bytes = await openClient.GetByteArrayAsync($"/v2/{Repository}/blobs/{digest}", Oci.Ct);
            await Oci.PushBlobAsync(iamClient, Repository, bytes);
        }

        using var pushed = await Oci.PutManifestAsync(iamClient, Repository, "v1", Manifest);
        Assert.Equal(System.Net.HttpStatusCode.Created, pushed.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        await Open.DisposeAsync();
        await Iam.DisposeAsync();
    }

    /// <summary>
    /// Deletes the pull-through cache rules the ECR API fuzz may have created (a valid mutation is a real rule,
    /// to an upstream that is not there): under such a rule a pull of something uncached rightly answers 503
    /// UNAVAILABLE, which the /v2 fuzz would count as a fault of bad input.
    /// </summary>
    internal async Task ForgetPullThroughCacheRulesAsync()
    {
        foreach (var (server, key) in new[] { (Open, (AwsKey?)null), (Iam, Root) })
        {
            var described = await RawHttp.SendAsync(server.BaseAddress, EcrRequest(server, "DescribePullThroughCacheRules", "{\"maxResults\":1000}"u8.ToArray(), key));
            Assert.Equal(200, described.Status);
            using var json = JsonDocument.Parse(described.Body);
            foreach (var rule in json.RootElement.GetProperty("pullThroughCacheRules").EnumerateArray())
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new { ecrRepositoryPrefix = rule.GetProperty("ecrRepositoryPrefix").GetString() });
                Assert.Equal(200, (await RawHttp.SendAsync(server.BaseAddress, EcrRequest(server, "DeletePullThroughCacheRule", body, key))).Status);
            }
        }
    }

    /// <summary>An ECR JSON API request, signed by <paramref name="key"/> or with open mode's placeholder signature.</summary>
    internal static byte[] EcrRequest(WharfTestServer server, string operation, byte[] body, AwsKey? key, string target = "AmazonEC2ContainerRegistry_V20150921.", string contentType = "application/x-amz-json-1.1", string service = "ecr")
    {
        List<(string, string)> headers = [("Content-Type", contentType), ("X-Amz-Target", target + operation)];
        headers = key is null
            ? [.. headers, ("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/{Region}/{service}/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000")]
            : key.Sign(server.BaseAddress, "POST", "/", headers, body, service, Region);
        return RawHttp.Build("POST", "/", server.BaseAddress, headers, body);
    }

    /// <summary>A /v2 upload URL to PATCH or PUT: one a fuzzed POST opened, else a fresh one.</summary>
    internal async Task<string> UploadAsync(WharfTestServer server, bool iam)
    {
        if (!iam && uploads.TryDequeue(out var location))
        {
            return location;
        }

        List<(string, string)> headers = iam ? [("Authorization", IamToken)] : [];
        var response = await RawHttp.SendAsync(server.BaseAddress, RawHttp.Build("POST", $"/v2/{Repository}/blobs/uploads/", server.BaseAddress, headers, []));
        return response.Header("Location") is { } opened ? new Uri(opened, UriKind.RelativeOrAbsolute).IsAbsoluteUri ? new Uri(opened).PathAndQuery : opened : $"/v2/{Repository}/blobs/uploads/none";
    }

    /// <summary>Adds a query parameter to a path that may already have a query.</summary>
    internal static string WithQuery(string path, string parameter) => path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + parameter;

    /// <summary>Keeps an upload URL a fuzzed request opened on the open server, for later PATCHes.</summary>
    internal void Opened(RawResponse response)
    {
        if (response.Status == 202 && response.Header("Location") is { } location && location.Contains("/uploads/", StringComparison.Ordinal) && uploads.Count < 64)
        {
            uploads.Enqueue(location);
        }
    }

    /// <summary>Errors and stack traces logged since <paramref name="from"/>: an unhandled exception anywhere is a finding.</summary>
    internal static IEnumerable<string> LoggedFaults(CapturedLogs logs, int from) =>
        logs.Entries.Skip(from)
            .Where(e => e.Level >= LogLevel.Error || StackFrame().IsMatch(e.Message))
            .Select(e => $"logged {e.Level} {e.Category}[{e.EventId}]: {Shorten(e.Message, 400)}");

    internal static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    [GeneratedRegex(@"\n\s+at \S", RegexOptions.CultureInvariant)]
    private static partial Regex StackFrame();
}

/// <summary>What one fuzz test found: any 5xx but Kestrel's 505, any request left unanswered, any logged fault.</summary>
internal sealed class Findings(string lane)
{
    private readonly ConcurrentQueue<string> failures = new();
    private int sent;

    public async Task<RawResponse> SendAsync(WharfTestServer server, int n, byte[] request, bool halfClose = false)
    {
        var response = await RawHttp.SendAsync(server.BaseAddress, request, halfClose);
        Interlocked.Increment(ref sent);
        if ((response.Status >= 500 && response.Status != 505) || response.TimedOut)
        {
            failures.Enqueue($"{lane} #{n}: {(response.TimedOut ? "no answer within " + RawHttp.Timeout.TotalSeconds + " s" : response.Status.ToString(CultureInfo.InvariantCulture))}"
                + $"\n  request: {Show(request)}\n  response: {FuzzServers.Shorten(response.Text.ReplaceLineEndings(" | "), 300)}");
        }
        else if (ShapeProblem(response) is { } problem)
        {
            failures.Enqueue($"{lane} #{n}: {response.Status} {problem}\n  request: {Show(request)}\n  response: {FuzzServers.Shorten(response.Text.ReplaceLineEndings(" | "), 300)}");
        }

        return response;
    }

    /// <summary>An answer in the wrong shape: XML that does not parse, an AWS JSON error without <c>__type</c>, an OCI error without <c>errors</c>.</summary>
    private static string? ShapeProblem(RawResponse response)
    {
        var type = response.Header("Content-Type") ?? string.Empty;
        var body = response.Body;
        var xml = type.StartsWith("text/xml", StringComparison.Ordinal);
        if (body.Length == 0 || (response.Status < 400 && !xml) || !(xml || type.Contains("json", StringComparison.Ordinal)))
        {
            return null;
        }

        try
        {
            if (xml)
            {
                var root = System.Xml.Linq.XDocument.Parse(body).Root!;
                return response.Status >= 400 && root.Name.LocalName != "ErrorResponse" ? "XML error that is not an ErrorResponse" : null;
            }

            using var json = System.Text.Json.JsonDocument.Parse(body);
            if (type.StartsWith("application/x-amz-json-1.1", StringComparison.Ordinal))
            {
                return json.RootElement.TryGetProperty("__type", out _) ? null : "AWS JSON error without __type";
            }

            return response.Header("Docker-Distribution-API-Version") is not null && !json.RootElement.TryGetProperty("errors", out _) ? "OCI error without errors" : null;
        }
        catch (Exception e) when (e is System.Xml.XmlException or System.Text.Json.JsonException)
        {
            return $"error body does not parse ({e.Message})";
        }
    }

    /// <summary>Fails with the seed, the count and the first findings; <paramref name="logged"/> are faults from the server logs.</summary>
    public void AssertNone(IEnumerable<string> logged, int minimum)
    {
        foreach (var fault in logged)
        {
            failures.Enqueue(fault);
        }

        Assert.True(failures.IsEmpty, $"{lane}: {failures.Count} findings in {sent} requests, seed {FuzzServers.Seed} (WHARF_FUZZ_SEED replays another):\n{string.Join("\n", failures.Take(12))}");
        Assert.True(sent >= minimum, $"{lane}: only {sent} requests were sent");
    }

    private static string Show(byte[] request)
    {
        var text = Encoding.Latin1.GetString(request);
        var escaped = new StringBuilder();
        foreach (var c in FuzzServers.Shorten(text, 700))
        {
            escaped.Append(c is < ' ' or > '~' && c != '…' ? (c is '\r' ? "\\r" : c is '\n' ? "\\n" : $"\\x{(int)c:X2}") : c.ToString());
        }

        return escaped.ToString();
    }
}
