using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Audit;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;

namespace Wharf.Server.Tests.Audit;

/// <summary>
/// What a record holds, without a server: which requests are recorded, secrets hidden and sizes bounded in the
/// parameters, CloudTrail's names and identity types, and the embedded CloudTrail model.
/// </summary>
public sealed class AuditRecordTests
{
    private static RequestRecord Request(string surface, string? operation = null, Caller? caller = null) =>
        new() { RequestId = Guid.NewGuid().ToString(), Time = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero), Surface = surface, Operation = operation, Caller = caller };

    [Theory]
    [InlineData("ecr", "GET", "/", 200, true)]
    [InlineData("iam", "POST", "/", 200, true)]
    [InlineData("api", "POST", "/", 403, true)]
    [InlineData("cloudtrail", "POST", "/", 200, true)]
    [InlineData("kms", "POST", "/", 200, true)]
    [InlineData("v2", "PUT", "/v2/a/manifests/1", 201, true)]
    [InlineData("v2", "PATCH", "/v2/a/blobs/uploads/x", 202, true)]
    [InlineData("v2", "DELETE", "/v2/a/manifests/sha256:00", 202, true)]
    [InlineData("v2", "GET", "/v2/a/manifests/1", 200, false)]
    [InlineData("v2", "HEAD", "/v2/a/blobs/sha256:00", 200, false)]
    [InlineData("v2", "GET", "/v2/a/manifests/1", 401, true)]
    [InlineData("v2", "GET", "/v2/a/manifests/1", 403, true)]
    [InlineData("public", "GET", "/v2/alias/a/manifests/1", 403, true)]
    [InlineData("v2", "GET", "/v2/", 401, false)]
    [InlineData("console", "POST", "/console/repositories", 200, false)]
    [InlineData("health", "GET", "/health/ready", 200, false)]
    [InlineData("metrics", "GET", "/metrics", 200, false)]
    public void Api_calls_and_v2_writes_deletes_and_refusals_are_recorded_reads_and_the_sign_in_probe_are_not(string surface, string method, string path, int status, bool recorded) =>
        Assert.Equal(recorded, AuditRecorder.IsRecorded(Request(surface), method, new Microsoft.AspNetCore.Http.PathString(path), status));

    [Fact]
    public void A_full_queue_drops_and_counts_records_without_waiting()
    {
        var recorder = new AuditRecorder(Microsoft.Extensions.Options.Options.Create(new WharfOptions { Audit = new AuditOptions { QueueCapacity = 2 } }));
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Path = "/";
            context.Response.StatusCode = 200;
            recorder.OnCompleted(context, Request("ecr", "CreateRepository"));
        }

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), "recording waited for the queue");
        Assert.Equal(3, recorder.TakeDropped());
        Assert.Equal(0, recorder.TakeDropped());
        Assert.True(recorder.Reader.TryRead(out _));
        Assert.True(recorder.Reader.TryRead(out _));
        Assert.False(recorder.Reader.TryRead(out _));

        // After shutdown began, a late request is counted as dropped, not queued behind the final drain.
        recorder.Complete();
        var late = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        late.Request.Method = "POST";
        recorder.OnCompleted(late, Request("ecr", "CreateRepository"));
        Assert.Equal(1, recorder.TakeDropped());
    }

    [Fact]
    public async Task Wharf_audit_refuses_a_bad_filter_with_one_line_and_exit_code_2()
    {
        var result = await Wharf.Testing.WharfCommand.RunAsync(["audit", "--since", "yesterday-ish", "--data-dir", Path.GetTempPath()], TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("wharf: --since 'yesterday-ish' is neither an ISO 8601 time (2025-01-31T12:00:00Z) nor a duration such as 30m, 12h or 7d", result.StandardError.Trim());
    }

    [Fact]
    public void Passwords_secret_values_tokens_and_credentials_are_hidden_and_names_of_them_kept()
    {
        using var body = JsonDocument.Parse("""
            {"SecretId":"prod/db","SecretString":"s3cr3t-value","SecretBinary":"AAAA","ClientRequestToken":"tok-1","nextToken":"abc","credentialArn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
             "upstreamCredentials":{"password":"p4ss","username":"u"},"repositoryName":"team/app","layerPartBlob":"QUFBQQ==","imageManifest":"{\"big\":1}",
             "tags":[{"Key":"SessionToken","Value":"v"}],"maxResults":5,"force":true}
            """);
        var json = AuditParameters.FromJson(body.RootElement);
        using var parsed = JsonDocument.Parse(json);
        var root = parsed.RootElement;
        Assert.Equal("prod/db", root.GetProperty("SecretId").GetString());
        Assert.Equal(AuditParameters.Hidden, root.GetProperty("SecretString").GetString());
        Assert.Equal(AuditParameters.Hidden, root.GetProperty("SecretBinary").GetString());
        Assert.Equal(AuditParameters.Hidden, root.GetProperty("ClientRequestToken").GetString());
        Assert.Equal(AuditParameters.Hidden, root.GetProperty("nextToken").GetString());
        Assert.StartsWith("arn:", root.GetProperty("credentialArn").GetString(), StringComparison.Ordinal);
        Assert.Equal(AuditParameters.Hidden, root.GetProperty("upstreamCredentials").GetString());
        Assert.Equal("team/app", root.GetProperty("repositoryName").GetString());
        Assert.Equal("(omitted)", root.GetProperty("layerPartBlob").GetString());
        Assert.Equal("(omitted)", root.GetProperty("imageManifest").GetString());
        Assert.Equal(5, root.GetProperty("maxResults").GetInt32());
        Assert.True(root.GetProperty("force").GetBoolean());
        foreach (var secret in new[] { "s3cr3t-value", "tok-1", "p4ss", "QUFBQQ" })
        {
            Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
        }

        var form = AuditParameters.FromForm(new Dictionary<string, string>
        {
            ["Action"] = "ChangePassword", ["Version"] = "2010-05-08", ["OldPassword"] = "old-pw", ["NewPassword"] = "new-pw", ["Password"] = "pw", ["UserName"] = "alice",
        });
        Assert.Equal($$"""{"NewPassword":"{{AuditParameters.Hidden}}","OldPassword":"{{AuditParameters.Hidden}}","Password":"{{AuditParameters.Hidden}}","UserName":"alice"}""", form);

        // A presigned STS URL's query: its signature, credential and session token are bearer secrets.
        var presigned = AuditParameters.FromForm(new Dictionary<string, string>
        {
            ["Action"] = "GetCallerIdentity", ["X-Amz-Signature"] = "f00dfeed", ["X-Amz-Credential"] = "AKIAEXAMPLE/20250101/us-east-1/sts/aws4_request", ["X-Amz-Security-Token"] = "session-tok",
        });
        Assert.DoesNotContain("f00dfeed", presigned, StringComparison.Ordinal);
        Assert.DoesNotContain("session-tok", presigned, StringComparison.Ordinal);
        Assert.DoesNotContain("aws4_request", presigned, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_are_bounded_however_large_wide_or_deep_the_request()
    {
        var wide = "{" + string.Join(',', Enumerable.Range(0, 5000).Select(i => $"\"member{i}\":\"{new string('x', 500)}\"")) + "}";
        var deep = new string('[', 60) + new string(']', 60);
        var longString = "{\"policyText\":\"" + new string('p', 200_000) + "\",\"deep\":" + deep + "}";
        foreach (var text in new[] { wide, longString })
        {
            using var body = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            var json = AuditParameters.FromJson(body.RootElement);
            Assert.InRange(Encoding.UTF8.GetByteCount(json), 2, AuditParameters.MaxBytes + 512);
            using var _ = JsonDocument.Parse(json); // still JSON
        }

        var many = Enumerable.Range(0, 5000).ToDictionary(i => $"Tags.member.{i}.Value", _ => new string('v', 900));
        Assert.InRange(Encoding.UTF8.GetByteCount(AuditParameters.FromForm(many)), 2, AuditParameters.MaxBytes + 512);
    }

    [Fact]
    public void Invalid_text_in_names_and_values_and_a_cut_through_a_surrogate_pair_still_give_valid_json()
    {
        // What the fuzz tests send: lone surrogate escapes and invalid UTF-8 in member names and values.
        byte[][] bodies =
        [
            Encoding.UTF8.GetBytes("""{"resourceArn":{"a\ud800b":"0"},"tagKeys":["\udfff",["1e400",null],"1"]}"""),
            Encoding.UTF8.GetBytes("""{"reg\ud800istryId":"123456789012","repositoryName":"fuzz/app"}"""),
            [.. "{\"r"u8.ToArray().Append((byte)0xB3).Concat("positoryName\":\"fuzz/scratch\"}"u8.ToArray())],
            Encoding.UTF8.GetBytes("{\"policyText\":\"" + new string('p', 1023) + "\ud83d\ude00\"}"),
        ];
        foreach (var bytes in bodies)
        {
            using var body = JsonDocument.Parse(bytes);
            var json = AuditParameters.FromJson(body.RootElement);
            using var parsed = JsonDocument.Parse(json); // valid JSON, whatever the request's text
            Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
        }

        var form = AuditParameters.FromForm(new Dictionary<string, string> { ["UserName"] = new string('u', 1023) + "\ud83d\ude00", ["Lone\ud800"] = "x\udc00" });
        using var parsedForm = JsonDocument.Parse(form);
        Assert.StartsWith(new string('u', 1023) + "…", parsedForm.RootElement.GetProperty("UserName").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_carries_cloudtrail_s_fields_for_a_user_s_refused_api_call()
    {
        var account = AccountId.Parse("123456789012");
        var caller = new Caller(account, $"arn:aws:iam::{account}:user/dev/alice", false) { UserId = "AIDAEXAMPLE", AccessKeyId = "AKIAEXAMPLE", SourceIp = "10.0.0.7" };
        var record = Request("ecr", "DeleteRepository", caller);
        record.EventSource = "ecr.amazonaws.com";
        record.Region = "eu-west-1";
        record.RequestParameters = """{"repositoryName":"team/app","force":true}""";
        record.Error = (ErrorCatalogue.Describe(WharfErrorCode.Denied), "not allowed");
        var evt = AuditEventFactory.Create(new AuditEntry(record, "POST", "/", 400, "aws-cli/1.0", "10.0.0.7", null, null));

        Assert.Equal(("123456789012", "ecr.amazonaws.com", "DeleteRepository", false, "alice", "AKIAEXAMPLE"), (evt.Account, evt.EventSource, evt.EventName, evt.ReadOnly, evt.Username, evt.AccessKeyId));
        Assert.Equal((AuditEventFactory.RepositoryType, "team/app"), (evt.ResourceType, evt.ResourceName));
        using var document = JsonDocument.Parse(evt.Document);
        var root = document.RootElement;
        Assert.Equal("IAMUser", root.GetProperty("userIdentity").GetProperty("type").GetString());
        Assert.Equal("AIDAEXAMPLE", root.GetProperty("userIdentity").GetProperty("principalId").GetString());
        Assert.Equal("alice", root.GetProperty("userIdentity").GetProperty("userName").GetString());
        Assert.Equal("2025-03-01T12:00:00Z", root.GetProperty("eventTime").GetString());
        Assert.Equal("AccessDeniedException", root.GetProperty("errorCode").GetString());
        Assert.Equal("not allowed", root.GetProperty("errorMessage").GetString());
        Assert.Equal(record.RequestId, root.GetProperty("requestID").GetString());
        Assert.Equal(evt.EventId, root.GetProperty("eventID").GetString());
        Assert.Equal("arn:aws:ecr:eu-west-1:123456789012:repository/team/app", root.GetProperty("resources")[0].GetProperty("ARN").GetString());
        Assert.Equal("10.0.0.7", root.GetProperty("sourceIPAddress").GetString());
    }

    [Fact]
    public void A_role_session_and_an_unsigned_call_are_named_as_cloudtrail_names_them()
    {
        var account = AccountId.Parse("123456789012");
        var session = new Caller(account, $"arn:aws:sts::{account}:assumed-role/deployer/ci-42", false) { UserId = "AROAEXAMPLE:ci-42", AccessKeyId = "ASIAEXAMPLE" };
        var assumed = AuditEventFactory.Create(new AuditEntry(Request("ecr", "DescribeRepositories", session), "POST", "/", 200, null, null, null, null));
        Assert.Equal(("ci-42", true), (assumed.Username, assumed.ReadOnly));
        using (var document = JsonDocument.Parse(assumed.Document))
        {
            var identity = document.RootElement.GetProperty("userIdentity");
            Assert.Equal("AssumedRole", identity.GetProperty("type").GetString());
            Assert.Equal($"arn:aws:iam::{account}:role/deployer", identity.GetProperty("sessionContext").GetProperty("sessionIssuer").GetProperty("arn").GetString());
        }

        // Refused before its service was known: named from the target and the credential scope it claimed, never its signature.
        var unsigned = Request("api");
        unsigned.Error = (ErrorCatalogue.Describe(WharfErrorCode.Denied), "bad signature");
        var refused = AuditEventFactory.Create(new AuditEntry(
            unsigned, "POST", "/", 403, null, "127.0.0.1", "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
            "AWS4-HMAC-SHA256 Credential=AKIAFORGED/20250301/us-west-2/ecr/aws4_request, SignedHeaders=host, Signature=deadbeef"));
        Assert.Equal(("ecr.amazonaws.com", "CreateRepository", "AKIAFORGED", string.Empty), (refused.EventSource, refused.EventName, refused.AccessKeyId, refused.Account));
        Assert.DoesNotContain("deadbeef", refused.Document, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"Unknown\"", refused.Document, StringComparison.Ordinal);
        Assert.Contains("\"awsRegion\":\"us-west-2\"", refused.Document, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DataPlaneOperations.StartUpload, "POST", "InitiateLayerUpload")]
    [InlineData(DataPlaneOperations.UploadChunk, "PATCH", "UploadLayerPart")]
    [InlineData(DataPlaneOperations.CompleteUpload, "PUT", "CompleteLayerUpload")]
    [InlineData(DataPlaneOperations.PutManifest, "PUT", "PutImage")]
    [InlineData(DataPlaneOperations.DeleteManifest, "DELETE", "BatchDeleteImage")]
    [InlineData(DataPlaneOperations.GetManifest, "GET", "BatchGetImage")]
    [InlineData(DataPlaneOperations.MountBlob, "POST", "MountBlob")]
    [InlineData(null, "DELETE", "UnknownDelete")]
    public void V2_operations_take_ecr_s_event_names_where_ecr_has_one(string? operation, string method, string expected) =>
        Assert.Equal(expected, AuditEventFactory.DataPlaneEventName(operation, method));

    [Fact]
    public async Task Embedded_cloudtrail_model_equals_the_installed_botocore_model()
    {
        Assert.Equal("cloudtrail", ServiceModel.CloudTrail.SigningName);
        Assert.Equal("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", ServiceModel.CloudTrail.TargetPrefix);
        var found = await Wharf.Testing.ProcessRunner.RunAsync("python3", ["-c", "import botocore,os;print(os.path.dirname(botocore.__file__))"]);
        var path = Path.Combine(found.StandardOutput.Trim(), "data", "cloudtrail", "2013-11-01", "service-2.json.gz");
        if (found.ExitCode != 0 || !File.Exists(path))
        {
            Wharf.Testing.Requires.Missing("botocore's CloudTrail model is not installed here");
        }

        await using var file = File.OpenRead(path);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var expected = await JsonDocument.ParseAsync(gzip, cancellationToken: TestContext.Current.CancellationToken);
        await using var embedded = typeof(ServiceModel).Assembly.GetManifestResourceStream("Wharf.Server.ControlPlane.Model.cloudtrail-2013-11-01.json")!;
        using var actual = await JsonDocument.ParseAsync(embedded, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement), "the embedded model differs from botocore's: refresh it (ControlPlane/Model/README.md)");

        // Two shapes of other operations carry surrogate-range patterns .NET cannot compile; LookupEvents' input has none.
        Assert.True(ServiceModel.CloudTrail.TryGetOperation("LookupEvents", out var lookup));
        using var input = JsonDocument.Parse("""{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"x"}],"StartTime":1,"EndTime":2,"EventCategory":"insight","MaxResults":50,"NextToken":"t"}""");
        Assert.Null(ModelValidator.Validate(ServiceModel.CloudTrail, lookup, input.RootElement));
    }
}
