using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using static Wharf.Server.Tests.Secrets.SecretsCli;

namespace Wharf.Server.Tests.Secrets;

/// <summary>The Secrets Manager-compatible API driven by the real AWS CLI (<c>aws secretsmanager … --endpoint-url</c>).</summary>
public sealed class SecretsManagerCliTests
{
    [Fact]
    public async Task Create_get_and_put_move_the_stages_as_Secrets_Manager_does()
    {
        await using var server = await WharfTestServer.StartAsync();
        var created = await JsonAsync(RunAsync(server, "create-secret", "--name", "ecr-pullthroughcache/docker-hub", "--secret-string", """{"username":"u","accessToken":"t1"}""", "--description", "hub"));
        var arn = created.GetProperty("ARN").GetString()!;
        Assert.Matches(@"^arn:aws:secretsmanager:us-east-1:\d{12}:secret:ecr-pullthroughcache/docker-hub-[A-Za-z0-9]{6}$", arn);
        Assert.Equal("ecr-pullthroughcache/docker-hub", created.GetProperty("Name").GetString());
        var first = created.GetProperty("VersionId").GetString()!;

        // By name, by full ARN and by partial ARN (without the random suffix).
        foreach (var id in new[] { "ecr-pullthroughcache/docker-hub", arn, arn[..^7] })
        {
            var value = await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", id));
            Assert.Equal("""{"username":"u","accessToken":"t1"}""", value.GetProperty("SecretString").GetString());
            Assert.Equal(first, value.GetProperty("VersionId").GetString());
            Assert.Equal(["AWSCURRENT"], value.GetProperty("VersionStages").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(JsonValueKind.Number, value.GetProperty("CreatedDate").ValueKind);
        }

        var put = await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", arn, "--secret-string", "t2"));
        var second = put.GetProperty("VersionId").GetString()!;
        Assert.NotEqual(first, second);
        Assert.Equal("t2", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", arn))).GetProperty("SecretString").GetString());
        var previous = await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", arn, "--version-stage", "AWSPREVIOUS"));
        Assert.Equal(first, previous.GetProperty("VersionId").GetString());
        Assert.Contains("t1", previous.GetProperty("SecretString").GetString(), StringComparison.Ordinal);

        // A third value: the first version loses AWSPREVIOUS and is no longer listed as staged.
        var third = await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", arn, "--secret-string", "t3", "--version-stages", "AWSCURRENT", "blue"));
        Assert.Equal(["AWSCURRENT", "blue"], third.GetProperty("VersionStages").EnumerateArray().Select(e => e.GetString()));
        var described = await JsonAsync(RunAsync(server, "describe-secret", "--secret-id", arn));
        var stages = described.GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(second).EnumerateArray().Select(e => e.GetString()));
        Assert.False(stages.TryGetProperty(first, out _));
        Assert.Equal("hub", described.GetProperty("Description").GetString());
        Assert.True(described.TryGetProperty("LastAccessedDate", out _));

        // An old version stays readable by id until it is pruned.
        Assert.Contains("t1", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", arn, "--version-id", first))).GetProperty("SecretString").GetString(), StringComparison.Ordinal);
    }
}
