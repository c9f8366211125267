using System.Net.Http.Headers;
using System.Text;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>The AWS JSON 1.1 endpoint itself: targets, content types, bodies, validation, regions, tokens.</summary>
public sealed class AwsJsonProtocolTests : IAsyncLifetime
{
    private WharfTestServer server = null!;
    private HttpClient client = null!;

    public async ValueTask InitializeAsync()
    {
        server = await WharfTestServer.StartAsync();
        client = server.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Unknown_operation_and_missing_target_are_unknown_operation_errors()
    {
        var message = EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeEverything", "{}"), "UnknownOperationException");
        Assert.Contains("DescribeEverything", message, StringComparison.Ordinal);

        using var noTarget = EcrHttp.Request("DescribeRepositories", "{}");
        noTarget.Headers.Remove("X-Amz-Target");
        EcrHttp.AssertError(await EcrHttp.SendAsync(client, noTarget), "UnknownOperationException");

        using var otherService = EcrHttp.Request("DescribeRepositories", "{}");
        otherService.Headers.Remove("X-Amz-Target");
        otherService.Headers.TryAddWithoutValidation("X-Amz-Target", "DynamoDB_20120810.ListTables");
        EcrHttp.AssertError(await EcrHttp.SendAsync(client, otherService), "UnknownOperationException");
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2,3]")]
    [InlineData("\"text\"")]
    [InlineData("{\"maxResults\": \"ten\"}")]
    [InlineData("{\"maxResults\": 1.5}")]
    [InlineData("{\"repositoryNames\": \"one\"}")]
    public async Task Malformed_bodies_are_serialization_errors(string body) =>
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", body), "SerializationException");

    [Fact]
    public async Task Wrong_content_type_is_refused_and_an_empty_body_is_an_empty_input()
    {
        EcrHttp.AssertError(await EcrHttp.SendAsync(client, EcrHttp.Request("DescribeRepositories", "{}", contentType: "text/plain")), "SerializationException");
        using var empty = EcrHttp.Request("DescribeRepositories", string.Empty);
        var (status, body, _) = await EcrHttp.SendAsync(client, empty);
        Assert.Equal(200, status);
        Assert.Equal(0, body.RootElement.GetProperty("repositories").GetArrayLength());
    }

    [Theory]
    [InlineData("CreateRepository", "{}", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"a\"}", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"imageTagMutability\":\"NO\"}", "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"imageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\",\"filter\":\"bad filter\"}]}", "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filter' failed to satisfy constraint: 'must satisfy regular expression")]
    [InlineData("DescribeRepositories", "{\"maxResults\":0}", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be greater than or equal to 1'")]
    [InlineData("ListImages", "{\"repositoryName\":\"ab\",\"maxResults\":1001}", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 1000'")]
    [InlineData("BatchGetImage", "{\"repositoryName\":\"ab\",\"imageIds\":[]}", "Invalid parameter at 'imageIds' failed to satisfy constraint: 'must have length greater than or equal to 1'")]
    [InlineData("UploadLayerPart", "{\"repositoryName\":\"ab\",\"uploadId\":\"x\",\"partFirstByte\":0,\"partLastByte\":0,\"layerPartBlob\":\"AA==\"}", "Invalid parameter at 'uploadId' failed to satisfy constraint: 'must satisfy regular expression")]
    public async Task Model_constraints_fail_with_ecr_wording(string operation, string body, string expected)
    {
        var message = EcrHttp.AssertError(await EcrHttp.CallAsync(client, operation, body), "InvalidParameterException");
        Assert.StartsWith(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_model_operation_answers_in_aws_shape_never_a_404_or_500()
    {
        foreach (var operation in Wharf.Server.ControlPlane.Model.ServiceModel.Ecr.OperationNames)
        {
            var (status, body, response) = await EcrHttp.CallAsync(client, operation, "{}");
            Assert.True(status is 200 or 400, $"{operation} answered {status}");
            Assert.True(response.Headers.Contains("x-amzn-RequestId"), operation);
            if (status == 400)
            {
                Assert.True(body.RootElement.TryGetProperty("__type", out _) && body.RootElement.TryGetProperty("message", out _), $"{operation}: {body.RootElement}");
            }
        }
    }

    [Fact]
    public async Task Region_comes_from_the_credential_scope_and_account_from_registry_id()
    {
        var (status, body, _) = await EcrHttp.CallAsync(client, "CreateRepository", "{\"repositoryName\":\"scoped/repo\"}", region: "ap-northeast-2");
        Assert.Equal(200, status);
        Assert.Equal("arn:aws:ecr:ap-northeast-2:123456789012:repository/scoped/repo", body.RootElement.GetProperty("repository").GetProperty("repositoryArn").GetString());
        Assert.Equal($"123456789012.dkr.ecr.ap-northeast-2.localhost:{server.BaseAddress.Port}/scoped/repo", body.RootElement.GetProperty("repository").GetProperty("repositoryUri").GetString());

        // Another region is another registry.
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", "{\"repositoryNames\":[\"scoped/repo\"]}", region: "eu-central-1"), "RepositoryNotFoundException");

        (status, body, _) = await EcrHttp.CallAsync(client, "CreateRepository", "{\"registryId\":\"111122223333\",\"repositoryName\":\"scoped/repo\"}", region: "ap-northeast-2");
        Assert.Equal(200, status);
        Assert.Equal("111122223333", body.RootElement.GetProperty("repository").GetProperty("registryId").GetString());

        // Unsigned requests (curl) belong to the default region.
        using var unsigned = EcrHttp.Request("CreateRepository", "{\"repositoryName\":\"unsigned/repo\"}");
        unsigned.Headers.Remove("Authorization");
        (status, body, _) = await EcrHttp.SendAsync(client, unsigned);
        Assert.Equal("arn:aws:ecr:us-east-1:123456789012:repository/unsigned/repo", body.RootElement.GetProperty("repository").GetProperty("repositoryArn").GetString());

        // The default registry is printed as the host the caller used, where /v2 serves it.
        Assert.Equal($"{server.HostAndPort}/unsigned/repo", body.RootElement.GetProperty("repository").GetProperty("repositoryUri").GetString());
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1, SignedHeaders=host, Signature=00")]
    public async Task Malformed_authorization_is_an_incomplete_signature(string authorization)
    {
        using var request = EcrHttp.Request("DescribeRepositories", "{}");
        request.Headers.Remove("Authorization");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        EcrHttp.AssertError(await EcrHttp.SendAsync(client, request), "IncompleteSignatureException");
    }

    [Fact]
    public async Task Page_tokens_cannot_be_forged_or_replayed_into_another_listing()
    {
        foreach (var name in new[] { "tok/a", "tok/b", "tok/c" })
        {
            Assert.Equal(200, (await EcrHttp.CallAsync(client, "CreateRepository", $"{{\"repositoryName\":\"{name}\"}}")).Status);
        }

        var (_, page, _) = await EcrHttp.CallAsync(client, "DescribeRepositories", "{\"maxResults\":1}");
        var token = page.RootElement.GetProperty("nextToken").GetString()!;
        var (status, next, _) = await EcrHttp.CallAsync(client, "DescribeRepositories", $"{{\"maxResults\":1,\"nextToken\":\"{token}\"}}");
        Assert.Equal(200, status);
        Assert.NotEqual(page.RootElement.GetProperty("repositories")[0].GetProperty("repositoryName").GetString(), next.RootElement.GetProperty("repositories")[0].GetProperty("repositoryName").GetString());

        // Forged cursor (same key id and MAC, another cursor), another region, another operation: all refused.
        var raw = System.Buffers.Text.Base64Url.DecodeFromChars(token);
        var forged = System.Buffers.Text.Base64Url.EncodeToString([.. raw[..5], 0, 5, .. "tok/b"u8, .. raw[^32..]]);
        Assert.NotEqual(token, forged);
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", $"{{\"nextToken\":\"{forged}\"}}"), "InvalidParameterException");
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", $"{{\"nextToken\":\"{token}\"}}", region: "eu-west-3"), "InvalidParameterException");
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "ListImages", $"{{\"repositoryName\":\"tok/a\",\"nextToken\":\"{token}\"}}"), "InvalidParameterException");
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", "{\"nextToken\":\"garbage\"}"), "InvalidParameterException");
    }

    [Fact]
    public async Task Oversized_body_is_refused_without_reading_it()
    {
        // Only the headers are sent: the server must answer from Content-Length alone.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Oci.Ct);
        var stream = socket.GetStream();
        var head = $"POST / HTTP/1.1\r\nHost: {server.HostAndPort}\r\nX-Amz-Target: {EcrHttp.Target}DescribeRepositories\r\n" +
            $"Content-Type: application/x-amz-json-1.1\r\nContent-Length: {Wharf.Server.ControlPlane.AwsJsonHandler.MaxBodyBytes + 1}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Oci.Ct);
        var buffer = new byte[4096];
        var read = 0;
        while (read < buffer.Length && !Encoding.ASCII.GetString(buffer, 0, read).Contains("RequestEntityTooLargeException", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), Oci.Ct);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        var response = Encoding.ASCII.GetString(buffer, 0, read);
        Assert.StartsWith("HTTP/1.1 413", response, StringComparison.Ordinal);
        Assert.Contains("\"__type\":\"RequestEntityTooLargeException\"", response, StringComparison.Ordinal);
        Assert.Contains("x-amzn-RequestId", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Immutable_tag_overwrite_on_v2_is_tag_invalid_and_exclusions_stay_mutable()
    {
        Assert.Equal(200, (await EcrHttp.CallAsync(client, "CreateRepository",
            "{\"repositoryName\":\"imm/v2\",\"imageTagMutability\":\"IMMUTABLE_WITH_EXCLUSION\",\"imageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\",\"filter\":\"nightly-*\"}]}")).Status);
        await Oci.PushImageAsync(client, "imm/v2", "1.0");
        var second = await Oci.PushImageAsync(client, "imm/v2", "nightly-1");
        Assert.NotNull(second);
        await Oci.PushImageAsync(client, "imm/v2", "nightly-1");

        // A second image under 1.0 is refused with ECR's message; so is re-pushing the same bytes under it.
        var config = Encoding.UTF8.GetBytes("{\"os\":\"linux\"}");
        await Oci.PushBlobAsync(client, "imm/v2", config);
        var manifest = Oci.Manifest(config, []);
        using var refused = await Oci.PutManifestAsync(client, "imm/v2", "1.0", manifest);
        var (code, error) = await Oci.ErrorAsync(refused);
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Equal("TAG_INVALID", code);
        Assert.Equal("The image tag '1.0' already exists in the 'imm/v2' repository and cannot be overwritten because the repository is immutable.", error.GetProperty("message").GetString());
        var original = await client.GetByteArrayAsync("/v2/imm/v2/manifests/1.0", Oci.Ct);
        using var again = await Oci.PutManifestAsync(client, "imm/v2", "1.0", original);
        Assert.Equal(400, (int)again.StatusCode);

        // Pushing by digest is always allowed (multi-arch tools push children that way).
        using var byDigest = await Oci.PutManifestAsync(client, "imm/v2", Oci.Sha256(manifest), manifest);
        Assert.Equal(201, (int)byDigest.StatusCode);
    }
}
