using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// Two Wharf installations paired as two ECR regions: site A (SQLite, us-east-1, account 111111111111) and
/// site B (PostgreSQL, eu-west-1, account 222222222222), each its own process and data directory, each
/// mapping the other's region to it with a key of the other's account, each with the replication
/// configuration a user writes for ECR. Pushes with skopeo, checks with the AWS CLI and skopeo.
/// </summary>
public sealed class TwoSitesTests
{
    private const string AccountA = "111111111111";
    private const string AccountB = "222222222222";
    private const string RegionA = "us-east-1";
    private const string RegionB = "eu-west-1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_sites_replicate_to_each_other_with_identical_digests_only_new_blobs_nothing_coming_back_and_through_an_outage()
    {
        var cluster = await PostgresCluster.GetAsync();
        await using var a = new WharfSite("a", Site(AccountA, RegionA));
        await using var b = new WharfSite("b", Site(AccountB, RegionB));
        b.Settings["Metadata:Backend"] = "Postgres";
        b.Settings["Metadata:ConnectionString"] = await cluster.CreateDatabaseAsync();
        Pair(a, RegionB, b);
        Pair(b, RegionA, a);
        await a.StartAsync();
        await b.StartAsync();
        (await RemoteRegions.SetCredentialsAsync(a.StoreArguments, a.Settings, RegionB, "--access-key-id", b.Root["AWS_ACCESS_KEY_ID"], b.Root["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();
        (await RemoteRegions.SetCredentialsAsync(b.StoreArguments, b.Settings, RegionA, "--access-key-id", a.Root["AWS_ACCESS_KEY_ID"], a.Root["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();
        await ConfigureAsync(a, RegionA, RegionB, AccountB);
        await ConfigureAsync(b, RegionB, RegionA, AccountA);

        // One image pushed on each side; the second shares the first's two layers and adds one.
        var layouts = Path.Combine(a.DataDirectory, "layouts");
        var first = await OciLayout.WriteImageAsync(Path.Combine(layouts, "first"), "v1", [(1 << 20) + 1, 300_000], 1300, Ct);
        var second = await OciLayout.WriteImageAsync(Path.Combine(layouts, "second"), "v2", [(1 << 20) + 1, 300_000, 90_000], 1300, Ct);
        Assert.Equal(first.Layers.Select(l => l.Digest), second.Layers.Take(2).Select(l => l.Digest));
        await PushAsync(a, RegionA, first, "team/app:v1");
        await WaitCompleteAsync(a, RegionA, first.Manifest.Digest, RegionB, AccountB);
        await PushAsync(b, RegionB, second, "team/app:v2");
        await WaitCompleteAsync(b, RegionB, second.Manifest.Digest, RegionA, AccountA);

        // Each image is on both sites under the same digest and tag, and pulls back byte for byte.
        foreach (var (site, region) in new[] { (a, RegionA), (b, RegionB) })
        {
            using var described = await CliJsonAsync(site, region, "ecr", "describe-images", "--repository-name", "team/app");
            Assert.Equal(
                new[] { (first.Manifest.Digest, "v1"), (second.Manifest.Digest, "v2") }.OrderBy(i => i.Item1, StringComparer.Ordinal),
                described.RootElement.GetProperty("imageDetails").EnumerateArray()
                    .Select(i => (i.GetProperty("imageDigest").GetString()!, Assert.Single(i.GetProperty("imageTags").EnumerateArray()).GetString()!))
                    .OrderBy(i => i.Item1, StringComparer.Ordinal));
            var password = (await AwsClients.CliAsync(site.BaseAddress, region, site.Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
            foreach (var (image, tag) in new[] { (first, "v1"), (second, "v2") })
            {
                var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", "AWS:" + password, $"docker://{site.HostAndPort}/team/app:{tag}")).EnsureSuccess().StandardOutput;
                Assert.Equal(image.Manifest.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw.TrimEnd('\n')))));
            }
        }

        var pulled = Path.Combine(layouts, "pulled");
        var passwordA = (await AwsClients.CliAsync(a.BaseAddress, RegionA, a.Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", "AWS:" + passwordA, $"docker://{a.HostAndPort}/team/app:v2", $"oci:{pulled}:v2")).EnsureSuccess();
        foreach (var blob in second.Layers.Append(second.Config))
        {
            Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(Path.Combine(pulled, "blobs", "sha256", blob.Digest["sha256:".Length..]), Ct));
        }

        // Bytes sent are the unique bytes: B sent A only the new layer and the new config.
        Assert.Contains($"Replicated 222222222222/eu-west-1/team/app@{second.Manifest.Digest} to region us-east-1: 2 blobs sent ({second.Layers[2].Size + second.Config.Size} bytes), 2 already there, 0 mounted", b.Log, StringComparison.Ordinal);

        // Nothing bounces: the copies are replication actions, which neither site replicates again. Give both
        // consumers time to read every event, then each image has exactly one copy, made by its own site.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.Equal([RegionB], await StatusRegionsAsync(a, RegionA, first.Manifest.Digest));
        Assert.Empty(await StatusRegionsAsync(b, RegionB, first.Manifest.Digest));
        Assert.Equal([RegionA], await StatusRegionsAsync(b, RegionB, second.Manifest.Digest));
        Assert.Empty(await StatusRegionsAsync(a, RegionA, second.Manifest.Digest));
        Assert.Single(Occurrences(a.Log, "Replicated 111111111111/us-east-1/team/app@"));
        Assert.Single(Occurrences(b.Log, "Replicated 222222222222/eu-west-1/team/app@"));

        // Site B down: A's copy waits IN_PROGRESS, naming the outage, and completes once B is back.
        b.Kill();
        var third = await OciLayout.WriteImageAsync(Path.Combine(layouts, "third"), "v3", [50_000], 1310, Ct);
        await PushAsync(a, RegionA, third, "team/app:v3");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            using var status = await CliJsonAsync(a, RegionA, "ecr", "describe-image-replication-status", "--repository-name", "team/app", "--image-id", "imageDigest=" + third.Manifest.Digest);
            var rows = status.RootElement.GetProperty("replicationStatuses").EnumerateArray().ToList();
            if (rows.Count == 1 && rows[0].TryGetProperty("failureCode", out var code))
            {
                Assert.Equal("IN_PROGRESS", rows[0].GetProperty("status").GetString());
                Assert.StartsWith("DESTINATION_UNREACHABLE: ", code.GetString(), StringComparison.Ordinal);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no outage reported: {status.RootElement}");
            await Task.Delay(200, Ct);
        }

        await b.StartAsync();
        await WaitCompleteAsync(a, RegionA, third.Manifest.Digest, RegionB, AccountB);
        using var arrived = await CliJsonAsync(b, RegionB, "ecr", "describe-images", "--repository-name", "team/app", "--image-ids", "imageTag=v3");
        Assert.Equal(third.Manifest.Digest, arrived.RootElement.GetProperty("imageDetails")[0].GetProperty("imageDigest").GetString());
    }

    private static Dictionary<string, string?> Site(string account, string region) => new()
    {
        ["Auth"] = "Iam",
        ["Registry:DefaultAccount"] = account,
        ["Registry:DefaultRegion"] = region,
        ["Replication:Interval"] = "00:00:00.200",
        ["Replication:RetryBaseDelay"] = "00:00:00.500",
        ["Replication:MaxRetryDelay"] = "00:00:01",
    };

    /// <summary>Maps <paramref name="region"/> on <paramref name="site"/> to <paramref name="remote"/>.</summary>
    private static void Pair(WharfSite site, string region, WharfSite remote)
    {
        foreach (var (key, value) in RemoteRegions.Settings(region, remote.BaseAddress, "wharf"))
        {
            site.Settings[key] = value;
        }
    }

    private static async Task ConfigureAsync(WharfSite site, string region, string destinationRegion, string destinationAccount) =>
        (await AwsClients.CliAsync(site.BaseAddress, region, site.Root, "ecr", "put-replication-configuration", "--replication-configuration",
            $$"""{"rules":[{"destinations":[{"region":"{{destinationRegion}}","registryId":"{{destinationAccount}}"}],"repositoryFilters":[{"filter":"team/","filterType":"PREFIX_MATCH"}]}]}""")).EnsureSuccess();

    private static async Task PushAsync(WharfSite site, string region, LayoutImage image, string reference)
    {
        var password = (await AwsClients.CliAsync(site.BaseAddress, region, site.Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", "AWS:" + password, image.SkopeoReference, $"docker://{site.HostAndPort}/{reference}")).EnsureSuccess();
    }

    private static async Task WaitCompleteAsync(WharfSite site, string region, string digest, string destinationRegion, string destinationAccount)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            using var status = await CliJsonAsync(site, region, "ecr", "describe-image-replication-status", "--repository-name", "team/app", "--image-id", "imageDigest=" + digest);
            var rows = status.RootElement.GetProperty("replicationStatuses").EnumerateArray().ToList();
            if (rows.Count == 1 && rows[0].GetProperty("status").GetString() == "COMPLETE")
            {
                Assert.Equal((destinationRegion, destinationAccount), (rows[0].GetProperty("region").GetString(), rows[0].GetProperty("registryId").GetString()));
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"replication of {digest} from site {site.Name} did not complete: {status.RootElement}\n{site.Log}");
            await Task.Delay(200, Ct);
        }
    }

    private static async Task<List<string>> StatusRegionsAsync(WharfSite site, string region, string digest)
    {
        using var status = await CliJsonAsync(site, region, "ecr", "describe-image-replication-status", "--repository-name", "team/app", "--image-id", "imageDigest=" + digest);
        return [.. status.RootElement.GetProperty("replicationStatuses").EnumerateArray().Select(s => s.GetProperty("region").GetString()!)];
    }

    private static List<int> Occurrences(string text, string value)
    {
        var found = new List<int>();
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
        {
            found.Add(at);
        }

        return found;
    }

    private static async Task<JsonDocument> CliJsonAsync(WharfSite site, string region, params string[] args) =>
        JsonDocument.Parse((await AwsClients.CliAsync(site.BaseAddress, region, site.Root, args)).EnsureSuccess().StandardOutput);
}
