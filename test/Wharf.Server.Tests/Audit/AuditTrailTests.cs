using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Audit;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Audit;

/// <summary>
/// The audit trail end to end (docs/operations.md "Audit trail"), in IAM mode with real clients: the AWS CLI's
/// calls, a podman push and refusals are recorded with who, from where and with what (secrets hidden); CloudTrail's
/// <c>LookupEvents</c> finds them with its attributes and paging, within the caller's account; <c>wharf audit</c>
/// reads them as a process after a clean shutdown lost nothing; <c>Audit:File</c> has every record as a JSON line.
/// </summary>
public sealed partial class AuditTrailTests
{
    private const string Region = "us-east-1";
    private const string Password = "Audit-Pa55word-never-stored!";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Calls_pushes_and_refusals_are_recorded_looked_up_with_the_aws_cli_and_kept_through_a_clean_shutdown()
    {
        var file = Path.Combine(Path.GetTempPath(), "wharf-audit-" + Guid.NewGuid().ToString("N") + ".jsonl");
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam", ["Audit:File"] = file });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);

        // A call whose request id the client saw (the CLI's debug log shows the response headers).
        var created = await Aws(root, "ecr", "create-repository", "--repository-name", "audit/app", "--debug");
        created.EnsureSuccess();
        var requestId = RequestIdHeader().Match(created.StandardError).Groups[1].Value;
        Assert.Matches("^[0-9a-f-]{36}$", requestId);

        (await Aws(root, "iam", "create-user", "--user-name", "limited")).EnsureSuccess();
        var limited = IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", "limited"));
        (await Aws(root, "iam", "create-login-profile", "--user-name", "limited", "--password", Password)).EnsureSuccess();
        var denied = await Aws(limited, "ecr", "create-repository", "--repository-name", "audit/denied");
        Assert.Contains("AccessDeniedException", denied.StandardError, StringComparison.Ordinal);

        // A push by podman, and an anonymous write attempt.
        await PushAsync(server, root, "audit/app:1");
        using (var anonymous = server.CreateClient())
        {
            using var refused = await anonymous.PostAsync(new Uri("/v2/audit/app/blobs/uploads/", UriKind.Relative), null, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // LookupEvents by event name: the root's call, with its identity, key, address, agent and request id.
        var found = await LookupAsync(server, root, "EventName", "CreateRepository");
        var mine = found.Single(e => Record(e).GetProperty("requestID").GetString() == requestId);
        Assert.Equal("root", mine.GetProperty("Username").GetString());
        Assert.Equal(root["AWS_ACCESS_KEY_ID"], mine.GetProperty("AccessKeyId").GetString());
        Assert.Equal("ecr.amazonaws.com", mine.GetProperty("EventSource").GetString());
        Assert.Equal("false", mine.GetProperty("ReadOnly").GetString());
        Assert.Equal("audit/app", mine.GetProperty("Resources")[0].GetProperty("ResourceName").GetString());
        var record = Record(mine);
        var account = record.GetProperty("recipientAccountId").GetString()!;
        Assert.Equal("Root", record.GetProperty("userIdentity").GetProperty("type").GetString());
        Assert.Equal($"arn:aws:iam::{account}:root", record.GetProperty("userIdentity").GetProperty("arn").GetString());
        Assert.Equal(root["AWS_ACCESS_KEY_ID"], record.GetProperty("userIdentity").GetProperty("accessKeyId").GetString());
        Assert.Equal("127.0.0.1", record.GetProperty("sourceIPAddress").GetString());
        Assert.StartsWith("aws-cli/", record.GetProperty("userAgent").GetString(), StringComparison.Ordinal);
        Assert.Equal(Region, record.GetProperty("awsRegion").GetString());
        Assert.Equal("audit/app", record.GetProperty("requestParameters").GetProperty("repositoryName").GetString());
        Assert.Equal($"arn:aws:ecr:{Region}:{account}:repository/audit/app", record.GetProperty("resources")[0].GetProperty("ARN").GetString());
        Assert.Equal("AwsApiCall", record.GetProperty("eventType").GetString());
        Assert.False(record.TryGetProperty("errorCode", out _));

        // The limited user's refusal, with its error code and its own identity.
        var refusal = Record(found.Single(e => e.GetProperty("Username").GetString() == "limited"));
        Assert.Equal("AccessDeniedException", refusal.GetProperty("errorCode").GetString());
        Assert.Equal("IAMUser", refusal.GetProperty("userIdentity").GetProperty("type").GetString());
        Assert.Equal($"arn:aws:iam::{account}:user/limited", refusal.GetProperty("userIdentity").GetProperty("arn").GetString());
        Assert.Equal(limited["AWS_ACCESS_KEY_ID"], refusal.GetProperty("userIdentity").GetProperty("accessKeyId").GetString());

        // The password is hidden (CloudTrail's placeholder); the push's writes carry ECR's names and the principal.
        var profile = Record((await LookupAsync(server, root, "EventName", "CreateLoginProfile")).Single());
        Assert.Equal("HIDDEN_DUE_TO_SECURITY_REASONS", profile.GetProperty("requestParameters").GetProperty("Password").GetString());
        Assert.Equal("limited", profile.GetProperty("requestParameters").GetProperty("UserName").GetString());
        var pushes = await LookupAsync(server, root, "ResourceName", "audit/app");
        var names = pushes.Select(e => e.GetProperty("EventName").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "CreateRepository", "InitiateLayerUpload", "CompleteLayerUpload", "PutImage" }, names);
        var putImage = pushes.First(e => e.GetProperty("EventName").GetString() == "PutImage");
        Assert.Equal("root", putImage.GetProperty("Username").GetString());
        Assert.Equal("Data", Record(putImage).GetProperty("eventCategory").GetString());

        // Paging: two events a page, three at a time, resumed from the CLI's token, without repeats or gaps.
        var writes = await LookupAsync(server, root, "ReadOnly", "false");
        Assert.True(writes.Count >= 8, $"expected several write events, got {writes.Count}");
        var first = JsonDocument.Parse((await Aws(root, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=ReadOnly,AttributeValue=false", "--page-size", "2", "--max-items", "3")).EnsureSuccess().StandardOutput).RootElement;
        Assert.Equal(3, first.GetProperty("Events").GetArrayLength());
        var rest = JsonDocument.Parse((await Aws(root, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=ReadOnly,AttributeValue=false", "--page-size", "2", "--starting-token", first.GetProperty("NextToken").GetString()!)).EnsureSuccess().StandardOutput).RootElement;
        var paged = first.GetProperty("Events").EnumerateArray().Concat(rest.GetProperty("Events").EnumerateArray()).Select(e => e.GetProperty("EventId").GetString()).ToList();
        Assert.Equal(writes.Select(e => e.GetProperty("EventId").GetString()).Take(paged.Count), paged);
        Assert.True(paged.Count >= writes.Count, "the pages stopped early");

        // Another account sees none of this account's events.
        (await IamTestAccess.AdminAsync(server, "create-account", "210987654321")).EnsureSuccess();
        var other = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--account", "210987654321"));
        var theirs = JsonDocument.Parse((await Aws(other, "cloudtrail", "lookup-events")).EnsureSuccess().StandardOutput).RootElement.GetProperty("Events");
        Assert.All(theirs.EnumerateArray(), e => Assert.Equal("210987654321", Record(e).GetProperty("recipientAccountId").GetString()));
        Assert.DoesNotContain(theirs.EnumerateArray(), e => e.GetProperty("EventName").GetString() == "CreateRepository");

        // Calls right before a clean shutdown (refused, unsigned: no CLI start-up between them), then stop.
        const int Burst = 150;
        using (var client = server.CreateClient())
        {
            for (var i = 0; i < Burst; i++)
            {
                using var content = new StringContent("{}", Encoding.UTF8, "application/x-amz-json-1.1");
                content.Headers.Add("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories");
                using var response = await client.PostAsync(new Uri("/", UriKind.Relative), content, Ct);
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // MissingAuthenticationTokenException
            }
        }

        await server.App.StopAsync(Ct);

        // The store reopened by another process: nothing lost; wharf audit as a process, one JSON line per event.
        var all = await AuditCliAsync(server, "--json", "--limit", "100000");
        var lines = all.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Burst, lines.Select(l => JsonDocument.Parse(l).RootElement).Count(r => r.GetProperty("eventName").GetString() == "DescribeRepositories"
            && r.GetProperty("userIdentity").GetProperty("type").GetString() == "Unknown"));
        var createdLines = (await AuditCliAsync(server, "--json", "--event-name", "CreateRepository")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, createdLines.Length);
        Assert.Contains(createdLines, l => l.Contains(requestId, StringComparison.Ordinal));
        var table = await AuditCliAsync(server, "--principal", "limited");
        Assert.Contains("AccessDeniedException", table, StringComparison.Ordinal);

        // The anonymous write attempt: recorded as a refusal (no account knows the caller: wharf audit shows it).
        var anonymousWrite = lines.Select(l => JsonDocument.Parse(l).RootElement).Single(r => r.GetProperty("eventName").GetString() == "InitiateLayerUpload"
            && r.TryGetProperty("errorCode", out _));
        Assert.Equal(401, anonymousWrite.GetProperty("additionalEventData").GetProperty("httpStatus").GetInt32());
        Assert.Equal("audit/app", anonymousWrite.GetProperty("requestParameters").GetProperty("repositoryName").GetString());

        // The file has every record the store has, one JSON record a line; the password is nowhere.
        var fileLines = await File.ReadAllLinesAsync(file, Ct);
        Assert.Equal(lines.Length, fileLines.Length);
        Assert.Equal(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("eventID").GetString()).Order(), fileLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("eventID").GetString()).Order());
        Assert.DoesNotContain(Password, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, string.Join('\n', fileLines), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, table, StringComparison.Ordinal);
        Assert.DoesNotContain(root["AWS_SECRET_ACCESS_KEY"], all, StringComparison.Ordinal);
        File.Delete(file);
    }

    [Fact]
    public async Task Lookup_events_answers_cloudtrail_s_errors_to_hostile_inputs()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        async Task<string> ErrorAsync(params string[] args)
        {
            var result = await AwsClients.CliAsync(server.BaseAddress, Region, root, ["cloudtrail", "lookup-events", .. args]);
            Assert.NotEqual(0, result.ExitCode);
            return result.StandardError;
        }

        Assert.Contains("InvalidLookupAttributesException", await ErrorAsync("--lookup-attributes", "AttributeKey=Bogus,AttributeValue=x"), StringComparison.Ordinal);
        Assert.Contains("InvalidLookupAttributesException", await ErrorAsync("--lookup-attributes", "AttributeKey=EventName,AttributeValue=a", "AttributeKey=Username,AttributeValue=b"), StringComparison.Ordinal);
        Assert.Contains("InvalidLookupAttributesException", await ErrorAsync("--lookup-attributes", "AttributeKey=ReadOnly,AttributeValue=maybe"), StringComparison.Ordinal);
        Assert.Contains("InvalidNextTokenException", await ErrorAsync("--starting-token", "garbage"), StringComparison.Ordinal);
        Assert.Contains("InvalidMaxResultsException", await ErrorAsync("--page-size", "100000"), StringComparison.Ordinal);
        Assert.Contains("InvalidTimeRangeException", await ErrorAsync("--start-time", "2025-02-01T00:00:00Z", "--end-time", "2025-01-01T00:00:00Z"), StringComparison.Ordinal);
        var unsupported = await AwsClients.CliAsync(server.BaseAddress, Region, root, "cloudtrail", "describe-trails");
        Assert.Contains("UnsupportedOperationException", unsupported.StandardError, StringComparison.Ordinal);

        // A token of one lookup is refused for another, and an altered one too.
        for (var i = 0; i < 3; i++)
        {
            (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "describe-repositories")).EnsureSuccess();
        }

        await WaitForAsync(server, q => q with { Filters = [new AuditFilter(AuditAttribute.EventName, "DescribeRepositories")] }, 3);
        var page = JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, Region, root, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=DescribeRepositories", "--page-size", "1", "--max-items", "1")).EnsureSuccess().StandardOutput).RootElement;
        var cliToken = page.GetProperty("NextToken").GetString()!;
        var serverToken = JsonDocument.Parse(Convert.FromBase64String(cliToken)).RootElement.GetProperty("NextToken").GetString()!;
        Assert.Contains("InvalidNextTokenException", await ErrorAsync("--lookup-attributes", "AttributeKey=EventName,AttributeValue=ListImages", "--starting-token", serverToken), StringComparison.Ordinal);
        var altered = serverToken[..^2] + (serverToken[^2] == 'A' ? 'B' : 'A') + serverToken[^1];
        Assert.Contains("InvalidNextTokenException", await ErrorAsync("--lookup-attributes", "AttributeKey=EventName,AttributeValue=DescribeRepositories", "--starting-token", altered), StringComparison.Ordinal);

        // A user without cloudtrail:LookupEvents is refused, and the refusal is itself recorded.
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", "reader")).EnsureSuccess();
        var reader = IamTestAccess.CliKey(await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-access-key", "--user-name", "reader"));
        var refused = await AwsClients.CliAsync(server.BaseAddress, Region, reader, "cloudtrail", "lookup-events");
        Assert.Contains("AccessDeniedException", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("cloudtrail:LookupEvents", refused.StandardError, StringComparison.Ordinal);
        await WaitForAsync(server, q => q with { Filters = [new AuditFilter(AuditAttribute.Username, "reader"), new AuditFilter(AuditAttribute.EventName, "LookupEvents")] }, 1);
    }

    [Fact]
    public async Task Records_older_than_the_retention_are_pruned_on_the_job_s_clock()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Audit:Retention"] = "30.00:00:00" });
        var store = server.GetService<IMetadataStore>();
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
        AuditEvent At(DateTimeOffset time, int n) => new(Guid.NewGuid().ToString(), time, "123456789012", "ecr.amazonaws.com", "Probe" + n, false, "root", null, null, null, null, null, "{}");
        await store.Audit.AppendAsync([At(clock.GetUtcNow().AddDays(-31), 1), At(clock.GetUtcNow().AddDays(-29), 2), At(clock.GetUtcNow(), 3)], Ct);
        var job = new AuditPruneJob(store, clock, server.GetService<IOptions<WharfOptions>>());

        Assert.Contains("1 audit records", await job.RunAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(string.Empty, await job.RunAsync(Ct));
        clock.Advance(TimeSpan.FromDays(2)); // now the second is 31 days old
        Assert.Contains("1 audit records", await job.RunAsync(Ct), StringComparison.Ordinal);
        var left = await store.Audit.LookupAsync(new AuditQuery(null, DateTimeOffset.UnixEpoch, clock.GetUtcNow(), [new AuditFilter(AuditAttribute.EventSource, "ecr.amazonaws.com")], 10), Ct);
        Assert.Equal(["Probe3"], left.Events.Where(e => e.EventName.StartsWith("Probe", StringComparison.Ordinal)).Select(e => e.EventName));
    }

    private static async Task PushAsync(WharfTestServer server, Dictionary<string, string> who, string reference)
    {
        await TestImages.BusyboxArchiveAsync();
        var tools = ContainerTools.Instance;
        var authFile = Path.Combine(Path.GetTempPath(), "wharf-audit-auth-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            var password = (await AwsClients.CliAsync(server.BaseAddress, Region, who, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
            var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password));
            await File.WriteAllTextAsync(authFile, JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [server.HostAndPort] = new { auth } } }), Ct);
            (await tools.PodmanAsync("push", "--tls-verify=false", "--authfile", authFile, TestImages.BusyboxLocalName, $"docker://{server.HostAndPort}/{reference}")).EnsureSuccess();
        }
        finally
        {
            File.Delete(authFile);
        }
    }

    /// <summary><c>aws cloudtrail lookup-events</c> with one attribute, every page (the CLI follows the tokens).</summary>
    [Fact]
    public async Task A_write_to_the_public_address_is_recorded_as_ecr_public_s()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreatePublicClient();
        using var response = await client.DeleteAsync("/v2/someone/app/manifests/latest", Ct);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"answered {(int)response.StatusCode}");

        await WaitForAsync(server, q => q, 1);
        var store = server.GetService<IMetadataStore>();
        var all = await store.Audit.LookupAsync(new AuditQuery(null, DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow.AddMinutes(1), [], 100), Ct);
        var recorded = Assert.Single(all.Events, e => e.EventName is "BatchDeleteImage" or "DeleteManifest");
        Assert.Equal("ecr-public.amazonaws.com", recorded.EventSource);
    }

    private static async Task<List<JsonElement>> LookupAsync(WharfTestServer server, Dictionary<string, string> who, string key, string value)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            // The writer runs beside the requests: the last call's record may be a moment behind.
            var result = (await AwsClients.CliAsync(server.BaseAddress, Region, who, "cloudtrail", "lookup-events", "--lookup-attributes", $"AttributeKey={key},AttributeValue={value}")).EnsureSuccess();
            var events = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("Events").EnumerateArray().ToList();
            if (events.Count > 0 || DateTime.UtcNow > deadline)
            {
                return events;
            }
        }
    }

    private static async Task WaitForAsync(WharfTestServer server, Func<AuditQuery, AuditQuery> query, int count)
    {
        var store = server.GetService<IMetadataStore>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var page = await store.Audit.LookupAsync(query(new AuditQuery(null, DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow.AddMinutes(1), [], 100)), Ct);
            if (page.Events.Count >= count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"expected {count} audit events, found {page.Events.Count}");
            await Task.Delay(50, Ct);
        }
    }

    private static JsonElement Record(JsonElement lookedUp) => JsonDocument.Parse(lookedUp.GetProperty("CloudTrailEvent").GetString()!).RootElement;

    private static async Task<string> AuditCliAsync(WharfTestServer server, params string[] args)
    {
        var result = await WharfCommand.RunAsync(["audit", "--since", "1h", .. args, .. server.StoreArguments], TimeSpan.FromMinutes(1));
        return result.EnsureSuccess().StandardOutput;
    }

    [GeneratedRegex("x-amzn-RequestId['\"]?: ['\"]?([0-9a-f-]{36})", RegexOptions.IgnoreCase)]
    private static partial Regex RequestIdHeader();
}
