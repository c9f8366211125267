using System.Net;
using System.Text.Json;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary><c>Get/PutAccountSetting</c> with the AWS CLI, and <c>BLOB_MOUNTING</c> deciding /v2 mounts.</summary>
public sealed class AccountSettingTests
{
    [Fact]
    public async Task Blob_mounting_setting_turns_v2_mounts_off_and_on()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        await Oci.PushImageAsync(client, "settings/source", "v1", layers: 1);
        var layer = JsonDocument.Parse(await client.GetStringAsync("/v2/settings/source/manifests/v1", Oci.Ct)).RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;

        Assert.Equal("ENABLED", await GetAsync(server, "BLOB_MOUNTING"));
        Assert.Equal("V2", await GetAsync(server, "REGISTRY_POLICY_SCOPE"));

        (await AwsClients.CliAsync(server.BaseAddress, "us-east-1", "ecr", "put-account-setting", "--name", "BLOB_MOUNTING", "--value", "DISABLED")).EnsureSuccess();
        Assert.Equal("DISABLED", await GetAsync(server, "BLOB_MOUNTING"));
        using (var refused = await client.PostAsync($"/v2/settings/target/blobs/uploads/?mount={layer}&from=settings/source", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, refused.StatusCode);
        }

        // Settings belong to a registry: another region is untouched.
        Assert.Equal("ENABLED", await GetAsync(server, "BLOB_MOUNTING", "eu-west-1"));

        (await AwsClients.CliAsync(server.BaseAddress, "us-east-1", "ecr", "put-account-setting", "--name", "BLOB_MOUNTING", "--value", "ENABLED")).EnsureSuccess();
        using (var mounted = await client.PostAsync($"/v2/settings/target/blobs/uploads/?mount={layer}&from=settings/source", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, mounted.StatusCode);
        }

        var badName = await AwsClients.CliAsync(server.BaseAddress, "us-east-1", "ecr", "get-account-setting", "--name", "NOPE");
        Assert.Contains("(InvalidParameterException)", badName.StandardError, StringComparison.Ordinal);
        var badValue = await AwsClients.CliAsync(server.BaseAddress, "us-east-1", "ecr", "put-account-setting", "--name", "BLOB_MOUNTING", "--value", "SOMETIMES");
        Assert.Contains("must be one of [ENABLED, DISABLED]", badValue.StandardError, StringComparison.Ordinal);
    }

    private static async Task<string> GetAsync(WharfTestServer server, string name, string region = "us-east-1")
    {
        var result = (await AwsClients.CliAsync(server.BaseAddress, region, "ecr", "get-account-setting", "--name", name)).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.GetProperty("value").GetString()!;
    }
}
