using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// The AWS CLI with <c>--endpoint-url</c>, following ECR's getting-started guide: create an immutable,
/// scan-on-push repository, push an image with podman, list and describe it, delete a tag, delete the
/// repository with <c>--force</c>. Output is parsed and asserted.
/// </summary>
public sealed class AwsCliTests
{
    private const string Region = "us-east-1";

    [Fact]
    public async Task Getting_started_flow_works_with_the_aws_cli()
    {
        // Podman reaches the server as 127.0.0.1:<port>, the default registry, so the API uses its region.
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Registry:HostPattern"] = "127.0.0.1" });
        var created = await CliJsonAsync(server, "ecr", "create-repository", "--repository-name", "getting-started/hello",
            "--image-scanning-configuration", "scanOnPush=true", "--image-tag-mutability", "IMMUTABLE");
        var repository = created.RootElement.GetProperty("repository");
        Assert.Equal("arn:aws:ecr:us-east-1:123456789012:repository/getting-started/hello", repository.GetProperty("repositoryArn").GetString());
        Assert.Equal("IMMUTABLE", repository.GetProperty("imageTagMutability").GetString());
        Assert.True(repository.GetProperty("imageScanningConfiguration").GetProperty("scanOnPush").GetBoolean());
        var uri = repository.GetProperty("repositoryUri").GetString()!;
        Assert.Equal($"{server.HostAndPort}/getting-started/hello", uri);

        // The printed URI is what podman pushes to.
        await TestImages.BusyboxArchiveAsync();
        var tools = ContainerTools.Instance;
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{uri}:v1")).EnsureSuccess();
        var pushedDigest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", $"docker://{uri}:v1")).EnsureSuccess().StandardOutput.Trim();

        var described = await CliJsonAsync(server, "ecr", "describe-repositories");
        Assert.Equal(["getting-started/hello"], described.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetProperty("repositoryName").GetString()!).ToArray());

        var images = await CliJsonAsync(server, "ecr", "list-images", "--repository-name", "getting-started/hello");
        var id = Assert.Single(images.RootElement.GetProperty("imageIds").EnumerateArray());
        Assert.Equal(pushedDigest, id.GetProperty("imageDigest").GetString());
        Assert.Equal("v1", id.GetProperty("imageTag").GetString());

        // The immutable tag refuses an overwrite through /v2 too (TAG_INVALID), and is still the same image.
        var multi = await TestImages.MultiLayerAsync();
        var overwrite = await tools.SkopeoAsync("copy", "--dest-tls-verify=false", multi.SkopeoReference, $"docker://{uri}:v1");
        Assert.NotEqual(0, overwrite.ExitCode);
        Assert.Contains("already exists in the 'getting-started/hello' repository and cannot be overwritten because the repository is immutable", overwrite.StandardError, StringComparison.Ordinal);

        var deleted = await CliJsonAsync(server, "ecr", "batch-delete-image", "--repository-name", "getting-started/hello", "--image-ids", "imageTag=v1");
        Assert.Equal(pushedDigest, Assert.Single(deleted.RootElement.GetProperty("imageIds").EnumerateArray()).GetProperty("imageDigest").GetString());
        Assert.Empty(deleted.RootElement.GetProperty("failures").EnumerateArray());
        Assert.Empty((await CliJsonAsync(server, "ecr", "list-images", "--repository-name", "getting-started/hello")).RootElement.GetProperty("imageIds").EnumerateArray());

        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{uri}:v2")).EnsureSuccess();
        var notEmpty = await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "delete-repository", "--repository-name", "getting-started/hello");
        Assert.NotEqual(0, notEmpty.ExitCode);
        Assert.Contains("RepositoryNotEmptyException", notEmpty.StandardError, StringComparison.Ordinal);

        var forced = await CliJsonAsync(server, "ecr", "delete-repository", "--repository-name", "getting-started/hello", "--force");
        Assert.Equal("getting-started/hello", forced.RootElement.GetProperty("repository").GetProperty("repositoryName").GetString());
        var gone = await tools.SkopeoAsync("inspect", "--tls-verify=false", $"docker://{uri}:v2");
        Assert.NotEqual(0, gone.ExitCode);
    }

    [Fact]
    public async Task Cli_errors_are_aws_errors_with_ecr_wording()
    {
        await using var server = await WharfTestServer.StartAsync();
        var missing = await AwsClients.CliAsync(server.BaseAddress, "ap-south-1", "ecr", "describe-images", "--repository-name", "nope");
        Assert.Equal(255, missing.ExitCode);
        Assert.Contains(
            "An error occurred (RepositoryNotFoundException) when calling the DescribeImages operation: The repository with name 'nope' does not exist in the registry with id '123456789012'",
            missing.StandardError,
            StringComparison.Ordinal);

        var unsupported = await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "get-signing-configuration");
        Assert.Equal(255, unsupported.ExitCode);
        Assert.Contains("(UnsupportedOperationException) when calling the GetSigningConfiguration operation: Wharf does not implement GetSigningConfiguration yet", unsupported.StandardError, StringComparison.Ordinal);
    }

    private static async Task<JsonDocument> CliJsonAsync(WharfTestServer server, params string[] args)
    {
        var result = (await AwsClients.CliAsync(server.BaseAddress, Region, args)).EnsureSuccess();
        return JsonDocument.Parse(result.StandardOutput);
    }
}
