using System.Net;
using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// The public address in <c>--auth open</c> mode: the Bearer flow still applies, anonymous callers still
/// only read, and a client that logs in at the realm (with anything, as anyone is root in open mode) is
/// the default account's root, so it pushes.
/// </summary>
public sealed class PublicAddressOpenModeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Anonymous_callers_read_and_a_login_with_anything_pushes_as_root()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Public:AnonymousPulls:RequestsPerSecond"] = "1000",
            ["Public:AnonymousPulls:Burst"] = "10000",
        });
        var tools = ContainerTools.Instance;
        (await AwsClients.CliAsync(server.BaseAddress, "us-east-1", "ecr-public", "create-repository", "--repository-name", "open/app")).EnsureSuccess();
        string alias;
        using (var registries = JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, "us-east-1", "ecr-public", "describe-registries")).EnsureSuccess().StandardOutput))
        {
            alias = registries.RootElement.GetProperty("registries")[0].GetProperty("aliases")[0].GetProperty("name").GetString()!;
        }

        var image = await TestImages.MultiLayerAsync();
        var remote = $"docker://{server.PublicHostAndPort}/{alias}/open/app:v1";
        Assert.NotEqual(0, (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, remote)).ExitCode);
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", "anyone:anything", image.SkopeoReference, remote)).EnsureSuccess();
        var digest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(image.Manifest.Digest, digest);

        using var client = server.CreatePublicClient();
        using var challenge = await client.GetAsync("/v2/", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.StartsWith("Bearer realm=", challenge.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }
}
