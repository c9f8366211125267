using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// What one node changes, another node on the same PostgreSQL honours within the bound
/// docs/architecture.md "Caches and their bounds" states: repository settings and policies at once (read
/// on every request), pull times within the pulling node's flush interval. (Token keys:
/// <c>TokenKeyRotationTests.Nodes_sharing_a_database_see_each_others_rotations_and_revocations</c>.)
/// </summary>
public sealed class ClusterCacheTests
{
    private const string Region = "us-east-1";
    private const string Repo = "cluster/app";

    // The scheduler's timers run on the fake clock: only the pull-time flush is left to fire.
    private static readonly Dictionary<string, string?> Quiet = new()
    {
        ["Lifecycle:Interval"] = "40.00:00:00",
        ["Gc:Interval"] = "40.00:00:00",
        ["Uploads:SweepInterval"] = "40.00:00:00",
        ["Scanning:Interval"] = "40.00:00:00",
        ["Events:PruneInterval"] = "40.00:00:00",
        ["Webhooks:Interval"] = "40.00:00:00",
        ["Images:PullTimeFlushInterval"] = "00:01:00",
    };

    [Fact]
    public async Task Tag_immutability_set_on_one_node_refuses_the_next_push_on_another_and_its_pulls_reach_the_first_within_the_flush_interval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = await WharfTestServer.StartOnPostgresAsync(Quiet, s => s.AddSingleton<TimeProvider>(time));
        await using var b = await a.StartPeerAsync(Quiet, s => s.AddSingleton<TimeProvider>(time));
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        Assert.Equal(200, (await EcrHttp.CallAsync(clientA, "CreateRepository", $"{{\"repositoryName\":\"{Repo}\"}}")).Status);
        await Oci.PushImageAsync(clientA, Repo, "v1");
        var v2 = await Oci.PushImageAsync(clientB, Repo, "v2");

        Assert.Equal(200, (await EcrHttp.CallAsync(clientA, "PutImageTagMutability", $"{{\"repositoryName\":\"{Repo}\",\"imageTagMutability\":\"IMMUTABLE\"}}")).Status);
        using (var retag = await Oci.PutManifestAsync(clientB, Repo, "v1", v2))
        {
            await Oci.AssertErrorAsync(retag, HttpStatusCode.BadRequest, "TAG_INVALID");
        }

        // A pull on B is noted in B's memory and written at B's next flush, one interval later at most.
        Assert.Equal(HttpStatusCode.OK, (await clientB.GetAsync($"/v2/{Repo}/manifests/v1", Oci.Ct)).StatusCode);
        Assert.Null(await LastPullAsync(clientA));
        var pulledAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromMinutes(1));
        double? seen = null;
        for (var attempt = 0; attempt < 300 && seen is null; attempt++)
        {
            await Task.Delay(50, Oci.Ct);
            seen = await LastPullAsync(clientA);
        }

        Assert.NotNull(seen);
        Assert.InRange(seen.Value, pulledAt.ToUnixTimeSeconds() - 1, pulledAt.ToUnixTimeSeconds() + 1);
    }

    [Fact]
    public async Task A_repository_policy_set_or_deleted_through_one_node_decides_the_requests_on_another_within_the_generations_age()
    {
        var iam = new Dictionary<string, string?> { ["Auth"] = "Iam" };
        await using var a = await WharfTestServer.StartOnPostgresAsync(iam);

        // Access key secrets are sealed with the master key: every node of a cluster shares it.
        await using var b = await a.StartPeerAsync(new Dictionary<string, string?>(iam) { ["Identity:MasterKeyFile"] = Path.Combine(a.DataDirectory, "master.key") });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(a.DataDirectory, "root-credentials"));
        (await AwsClients.CliAsync(a.BaseAddress, Region, root, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        using (var rootClient = await IamTestAccess.V2ClientAsync(a, Region, root))
        {
            await Oci.PushImageAsync(rootClient, Repo, "v1");
        }

        (await IamTestAccess.AdminAsync(a, "create-user", "--account", "123456789012", "puller")).EnsureSuccess();
        (await IamTestAccess.AdminAsync(a, "attach-user-policy", "--account", "123456789012", "--user", "puller", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")).EnsureSuccess();
        var puller = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(a, "create-access-key", "--account", "123456789012", "--user", "puller"));
        using var pullerOnB = await IamTestAccess.V2ClientAsync(b, Region, puller);
        Assert.Equal(HttpStatusCode.OK, (await pullerOnB.GetAsync($"/v2/{Repo}/manifests/v1", Oci.Ct)).StatusCode);

        const string Deny = """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/puller"},"Action":"ecr:BatchGetImage"}]}""";
        (await AwsClients.CliAsync(a.BaseAddress, Region, root, "ecr", "set-repository-policy", "--repository-name", Repo, "--policy-text", Deny)).EnsureSuccess();
        await Task.Delay(Wharf.Server.Identity.TokenRequestIdentity.GenerationMaxAge, Oci.Ct);
        using (var denied = await pullerOnB.GetAsync($"/v2/{Repo}/manifests/v1", Oci.Ct))
        {
            var (code, error) = await Oci.ErrorAsync(denied);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("DENIED", code);
            Assert.Contains("with an explicit deny in a resource-based policy", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        (await AwsClients.CliAsync(a.BaseAddress, Region, root, "ecr", "delete-repository-policy", "--repository-name", Repo)).EnsureSuccess();
        await Task.Delay(Wharf.Server.Identity.TokenRequestIdentity.GenerationMaxAge, Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, (await pullerOnB.GetAsync($"/v2/{Repo}/manifests/v1", Oci.Ct)).StatusCode);
    }

    private static async Task<double?> LastPullAsync(HttpClient client)
    {
        var (status, body, _) = await EcrHttp.CallAsync(client, "DescribeImages", $"{{\"repositoryName\":\"{Repo}\",\"imageIds\":[{{\"imageTag\":\"v1\"}}]}}");
        Assert.Equal(200, status);
        using (body)
        {
            return body.RootElement.GetProperty("imageDetails")[0].TryGetProperty("lastRecordedPullTime", out var at) ? at.GetDouble() : null;
        }
    }
}
