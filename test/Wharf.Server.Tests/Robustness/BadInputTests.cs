using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Wharf.Server.Tests.DataPlane;

namespace Wharf.Server.Tests.Robustness;

/// <summary>
/// The bad inputs that used to answer 500 and log a stack trace: each now gets a 400 (or 413) in its
/// protocol's shape, and the server logs no error for it.
/// </summary>
public sealed class BadInputTests(FuzzServers servers) : IClassFixture<FuzzServers>
{
    private const string Region = FuzzServers.Region;

    [Fact]
    public async Task Control_characters_echoed_into_a_Query_API_error_are_escaped_in_well_formed_xml()
    {
        var mark = servers.IamLogs.Entries.Count;
        var now = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        // Unauthenticated: a presigned URL whose date holds a NUL, which the expiry error quotes.
        var presigned = await SendAsync(servers.Iam, "GET", $"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={servers.Root.Id}%2F{now[..8]}%2F{Region}%2Fsts%2Faws4_request&X-Amz-Date=2026%001205T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature={new string('0', 64)}", [], []);
        var message = AssertXmlError(presigned, 400, 403);
        Assert.Contains("\\u0000", message, StringComparison.Ordinal);

        // Unauthenticated: the same in a form body's presigned parameters.
        var form = Encoding.UTF8.GetBytes($"Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={servers.Root.Id}%2F{now[..8]}%2F{Region}%2Fsts%2Faws4_request&X-Amz-Date=%01%02{now}&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00");
        AssertXmlError(await SendAsync(servers.Iam, "POST", "/", [("Content-Type", "application/x-www-form-urlencoded")], form), 400, 403);

        // Authenticated: an action name with control characters, quoted by the "not implemented" error.
        var body = "Action=Get%00User%1B&Version=2010-05-08"u8.ToArray();
        var signed = servers.Root.Sign(servers.Iam.BaseAddress, "POST", "/", [("Content-Type", "application/x-www-form-urlencoded")], body, "iam", Region);
        message = AssertXmlError(await RawHttp.SendAsync(servers.Iam.BaseAddress, RawHttp.Build("POST", "/", servers.Iam.BaseAddress, signed, body)), 400);
        Assert.Contains("Get\\u0000User\\u001B", message, StringComparison.Ordinal);
        Assert.Empty(FuzzServers.LoggedFaults(servers.IamLogs, mark));
    }

    [Theory]
    [InlineData("ffffffffffffffff")]
    [InlineData("zz")]
    public async Task A_malformed_chunk_is_400_on_the_json_api_the_query_api_and_every_v2_route_that_reads_a_body(string size)
    {
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        var chunked = Encoding.ASCII.GetBytes($"{size}\r\nhello\r\n0\r\n\r\n");
        List<(string, string)> Chunked(params (string, string)[] headers) => [.. headers, ("Transfer-Encoding", "chunked")];

        foreach (var server in new[] { servers.Open, servers.Iam })
        {
            var json = await SendAsync(server, "POST", "/", Chunked(("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")), chunked);
            Assert.Equal(400, json.Status);
            using var error = JsonDocument.Parse(json.Body);
            Assert.Equal("SerializationException", error.RootElement.GetProperty("__type").GetString());
            Assert.Contains("chunk", error.RootElement.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);

            var query = await SendAsync(server, "POST", "/", Chunked(("Content-Type", "application/x-www-form-urlencoded")), chunked);
            Assert.Contains("chunk", AssertXmlError(query, 400), StringComparison.OrdinalIgnoreCase);
        }

        // /v2 reads bodies in PATCH, PUT and POST of uploads and in a manifest PUT (open mode: the body is reached).
        var routes = new (string Method, string Path)[]
        {
            ("PATCH", await servers.UploadAsync(servers.Open, iam: false)),
            ("PUT", FuzzServers.WithQuery(await servers.UploadAsync(servers.Open, iam: false), "digest=" + Oci.Sha256("hello"u8.ToArray()))),
            ("POST", $"/v2/{FuzzServers.Repository}/blobs/uploads/?digest={Oci.Sha256("hello"u8.ToArray())}"),
            ("PUT", $"/v2/{FuzzServers.Repository}/manifests/chunky"),
        };
        foreach (var (method, path) in routes)
        {
            var response = await SendAsync(servers.Open, method, path, Chunked(("Content-Type", method == "PUT" && path.Contains("/manifests/", StringComparison.Ordinal) ? Oci.ManifestType : "application/octet-stream")), chunked);
            Assert.True(response.Status == 400, $"{method} {path}: {response.Text}");
            using var error = JsonDocument.Parse(response.Body);
            Assert.Equal("SIZE_INVALID", error.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
        }

        Assert.Empty(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)));
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_is_400_on_the_query_api_and_the_json_api()
    {
        var mark = servers.IamLogs.Entries.Count;

        // The client stops sending; Kestrel gives up at its minimum data rate (a few seconds) and the handler answers.
        var query = SendAsync(servers.Iam, "POST", "/", [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "100")], "Action=GetCallerIdentity"u8.ToArray(), contentLength: false);
        var json = SendAsync(servers.Iam, "POST", "/", [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"), ("Content-Length", "100")], "{}"u8.ToArray(), contentLength: false);
        AssertXmlError(await query, 400);
        Assert.Equal(400, (await json).Status);
        using var error = JsonDocument.Parse((await json).Body);
        Assert.Equal("SerializationException", error.RootElement.GetProperty("__type").GetString());
        Assert.Empty(FuzzServers.LoggedFaults(servers.IamLogs, mark));
    }

    [Fact]
    public async Task A_lone_surrogate_principal_is_the_apis_invalid_policy_error()
    {
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        const string Repository = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\ud800"},"Action":"ecr:BatchGetImage"}]}""";
        const string Registry = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["\udfff"]},"Action":"ecr:ReplicateImage","Resource":"*"}]}""";
        var repository = await EcrAsync(servers.Open, "SetRepositoryPolicy", new { repositoryName = FuzzServers.Repository, policyText = Repository });
        Assert.Equal((400, "InvalidParameterException"), (repository.Status, Type(repository)));
        var registry = await EcrAsync(servers.Open, "PutRegistryPolicy", new { policyText = Registry });
        Assert.Equal((400, "InvalidParameterException"), (registry.Status, Type(registry)));

        // IAM: a role's trust policy names principals; an identity policy with one in its resource is refused alike.
        var role = await QueryAsync("CreateRole", ("RoleName", "surrogate"), ("AssumeRolePolicyDocument", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\ud800"},"Action":"sts:AssumeRole"}]}"""));
        Assert.Contains("<Code>MalformedPolicyDocument</Code>", role.Body, StringComparison.Ordinal);
        AssertXmlError(role, 400);
        Assert.Equal(200, (await QueryAsync("CreateUser", ("UserName", "surrogate"))).Status);
        var user = await QueryAsync("PutUserPolicy", ("UserName", "surrogate"), ("PolicyName", "p"), ("PolicyDocument", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"\udc00"}]}"""));
        Assert.Contains("<Code>MalformedPolicyDocument</Code>", user.Body, StringComparison.Ordinal);
        Assert.Empty(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)));
    }

    [Fact]
    public async Task A_lone_surrogate_in_a_lifecycle_policy_is_an_invalid_parameter()
    {
        var mark = servers.OpenLogs.Entries.Count;
        const string Policy = """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["\ud800*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""";
        foreach (var operation in new[] { "PutLifecyclePolicy", "StartLifecyclePolicyPreview" })
        {
            var response = await EcrAsync(servers.Open, operation, new { repositoryName = FuzzServers.Repository, lifecyclePolicyText = Policy });
            Assert.Equal((400, "InvalidParameterException"), (response.Status, Type(response)));
        }

        Assert.Empty(FuzzServers.LoggedFaults(servers.OpenLogs, mark));
    }

    [Theory]
    [InlineData("DescribeRegistry", """{"registryId":"../../etc"}""")]
    [InlineData("GetAuthorizationToken", """{"registryId":"../../etc"}""")]
    [InlineData("GetAuthorizationToken", """{"registryIds":["../../etc"]}""")]
    [InlineData("GetRegistryPolicy", """{"registryId":"\ud800"}""")]
    [InlineData("DescribeRegistry", """{"registryId":"1234567890123"}""")]
    public async Task A_registry_id_that_is_not_an_account_id_is_an_invalid_parameter(string operation, string body)
    {
        foreach (var (server, key) in new[] { (servers.Open, (AwsKey?)null), (servers.Iam, servers.Root) })
        {
            var response = await RawHttp.SendAsync(server.BaseAddress, FuzzServers.EcrRequest(server, operation, Encoding.UTF8.GetBytes(body), key));
            Assert.Equal((400, "InvalidParameterException"), (response.Status, Type(response)));
            using var error = JsonDocument.Parse(response.Body);
            Assert.Contains("registryId", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    private static string? Type(RawResponse response)
    {
        using var json = JsonDocument.Parse(response.Body);
        return json.RootElement.GetProperty("__type").GetString();
    }

    private static Task<RawResponse> EcrAsync(Infrastructure.WharfTestServer server, string operation, object input) =>
        RawHttp.SendAsync(server.BaseAddress, FuzzServers.EcrRequest(server, operation, JsonSerializer.SerializeToUtf8Bytes(input), key: null));

    private Task<RawResponse> QueryAsync(string action, params (string Name, string Value)[] parameters)
    {
        var body = Encoding.UTF8.GetBytes(string.Join("&", parameters.Prepend(("Action", action)).Append(("Version", "2010-05-08")).Select(p => p.Item1 + "=" + Uri.EscapeDataString(p.Item2))));
        var headers = servers.Root.Sign(servers.Iam.BaseAddress, "POST", "/", [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body, "iam", Region);
        return RawHttp.SendAsync(servers.Iam.BaseAddress, RawHttp.Build("POST", "/", servers.Iam.BaseAddress, headers, body));
    }

    private static Task<RawResponse> SendAsync(Infrastructure.WharfTestServer server, string method, string target, List<(string, string)> headers, byte[] body, bool contentLength = true) =>
        RawHttp.SendAsync(server.BaseAddress, RawHttp.Build(method, target, server.BaseAddress, headers, body, contentLength && !headers.Any(h => h.Item1 == "Transfer-Encoding")));

    /// <summary>Asserts AWS's Query API error: one of the statuses, well-formed XML, <c>ErrorResponse/Error/Message</c>; returns the message.</summary>
    private static string AssertXmlError(RawResponse response, params int[] statuses)
    {
        Assert.True(statuses.Contains(response.Status), $"status {response.Status}: {response.Text}");
        Assert.StartsWith("text/xml", response.Header("Content-Type"), StringComparison.Ordinal);
        var document = XDocument.Parse(response.Body);
        Assert.Equal("ErrorResponse", document.Root!.Name.LocalName);
        return document.Root.Elements().Single(e => e.Name.LocalName == "Error").Elements().Single(e => e.Name.LocalName == "Message").Value;
    }
}
