using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// <c>nextToken</c>s and download URLs under the shared key ring: a token signed before
/// <c>wharf admin rotate-token-key</c> still works after it, new ones carry the new key id, and
/// <c>wharf admin revoke-token-key</c> ends what the revoked key signed — on every node sharing the
/// database. (GetAuthorizationToken passwords: <c>IamModeTests.Rotating_the_token_key_…</c>.)
/// </summary>
public sealed class TokenKeyRotationTests
{
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(61);

    [Fact]
    public async Task Page_tokens_signed_before_a_rotation_work_until_their_key_is_revoked()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));
        using var client = server.CreateClient();
        foreach (var name in new[] { "rot/a", "rot/b", "rot/c" })
        {
            Assert.Equal(200, (await EcrHttp.CallAsync(client, "CreateRepository", $"{{\"repositoryName\":\"{name}\"}}")).Status);
        }

        var before = await FirstPageTokenAsync(client);
        Assert.Equal("page-tokens-1", KeyOf(TokenPurpose.Page, before));

        Assert.Equal("page-tokens-2", (await IamTestAccess.AdminAsync(server, "rotate-token-key", "--purpose", "page")).EnsureSuccess().StandardOutput.Trim());
        time.Advance(ReloadInterval);
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(client, before));
        var after = await FirstPageTokenAsync(client);
        Assert.Equal("page-tokens-2", KeyOf(TokenPurpose.Page, after));
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(client, after));

        var revoked = await IamTestAccess.AdminAsync(server, "revoke-token-key", "page-tokens-1");
        Assert.Equal("revoked page-tokens-1", revoked.EnsureSuccess().StandardOutput.Trim());
        time.Advance(ReloadInterval);
        EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", $"{{\"maxResults\":1,\"nextToken\":\"{before}\"}}"), "InvalidParameterException");
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(client, after));

        // The key that signs cannot be revoked alone, nor one that does not exist, nor a name of no family.
        var signing = await IamTestAccess.AdminAsync(server, "revoke-token-key", "page-tokens-2");
        Assert.Equal(1, signing.ExitCode);
        Assert.Contains("rotate-token-key --purpose page --revoke-previous", signing.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, (await IamTestAccess.AdminAsync(server, "revoke-token-key", "page-tokens-1")).ExitCode);
        Assert.Equal(1, (await IamTestAccess.AdminAsync(server, "revoke-token-key", "page-tokens-02")).ExitCode);
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(client, after));
    }

    [Fact]
    public async Task Download_urls_signed_before_a_rotation_work_until_their_key_is_revoked()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "rot/dl", "v1", layers: 1);
        using var parsed = JsonDocument.Parse(manifest);
        var layer = parsed.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;
        using var anonymous = new HttpClient();

        var before = await DownloadUrlAsync(client, layer);
        Assert.Equal("download-tokens-1", KeyOf(TokenPurpose.Download, TokenOf(before)));

        // Rotating every family: each gets its next key, this one included.
        var rotated = (await IamTestAccess.AdminAsync(server, "rotate-token-key")).EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["auth-tokens-1", "page-tokens-1", "download-tokens-2", "bearer-tokens-1"], rotated);
        time.Advance(ReloadInterval);
        Assert.Equal(layer, Oci.Sha256(await anonymous.GetByteArrayAsync(before, Oci.Ct)));
        var after = await DownloadUrlAsync(client, layer);
        Assert.Equal("download-tokens-2", KeyOf(TokenPurpose.Download, TokenOf(after)));
        Assert.Equal(layer, Oci.Sha256(await anonymous.GetByteArrayAsync(after, Oci.Ct)));

        Assert.Equal("revoked download-tokens-1", (await IamTestAccess.AdminAsync(server, "revoke-token-key", "download-tokens-1")).EnsureSuccess().StandardOutput.Trim());
        time.Advance(ReloadInterval);
        await Oci.AssertErrorAsync(await anonymous.GetAsync(before, Oci.Ct), HttpStatusCode.Forbidden, "DENIED");
        Assert.Equal(layer, Oci.Sha256(await anonymous.GetByteArrayAsync(after, Oci.Ct)));

    }

    [Fact]
    public async Task Nodes_sharing_a_database_see_each_others_rotations_and_revocations()
    {
        var cluster = await PostgresCluster.GetAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Metadata:Backend"] = "Postgres",
            ["Metadata:ConnectionString"] = await cluster.CreateDatabaseAsync(Oci.Ct),
        };
        var (timeA, timeB) = (new FakeTimeProvider(DateTimeOffset.UtcNow), new FakeTimeProvider(DateTimeOffset.UtcNow));
        await using var nodeA = await WharfTestServer.StartAsync(settings, services: s => s.AddSingleton<TimeProvider>(timeA));
        await using var nodeB = await WharfTestServer.StartAsync(settings, services: s => s.AddSingleton<TimeProvider>(timeB));
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        foreach (var name in new[] { "rot/a", "rot/b" })
        {
            Assert.Equal(200, (await EcrHttp.CallAsync(clientA, "CreateRepository", $"{{\"repositoryName\":\"{name}\"}}")).Status);
        }

        var first = await FirstPageTokenAsync(clientA);
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(clientB, first));

        // Rotated (as wharf admin does, on the shared database): A signs with the new key once it reloads;
        // B, having loaded the family a moment ago, looks again for a key it has not seen after a few seconds.
        var keys = nodeA.GetService<IMetadataStore>().Keys;
        Assert.Equal("page-tokens-2", await TokenKeyRing.RotateAsync(keys, TokenPurpose.Page, revokePrevious: false, timeA.GetUtcNow(), Oci.Ct));
        timeA.Advance(ReloadInterval);
        var second = await FirstPageTokenAsync(clientA);
        Assert.Equal("page-tokens-2", KeyOf(TokenPurpose.Page, second));
        timeB.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(clientB, second));
        Assert.Equal("rot/b", await SecondPageFirstNameAsync(clientB, first));

        Assert.True(await TokenKeyRing.RevokeAsync(keys, TokenPurpose.Page, 1, Oci.Ct));
        timeA.Advance(ReloadInterval);
        timeB.Advance(ReloadInterval);
        foreach (var client in new[] { clientA, clientB })
        {
            EcrHttp.AssertError(await EcrHttp.CallAsync(client, "DescribeRepositories", $"{{\"maxResults\":1,\"nextToken\":\"{first}\"}}"), "InvalidParameterException");
            Assert.Equal("rot/b", await SecondPageFirstNameAsync(client, second));
        }
    }

    private static string KeyOf(TokenPurpose purpose, string token) =>
        TokenCodec.TryReadKeyId(token, out var keyId) ? TokenKeyRing.KeyName(purpose, keyId) : "no key id";

    private static async Task<string> FirstPageTokenAsync(HttpClient client)
    {
        var (status, page, _) = await EcrHttp.CallAsync(client, "DescribeRepositories", "{\"maxResults\":1}");
        Assert.Equal(200, status);
        Assert.Equal("rot/a", page.RootElement.GetProperty("repositories")[0].GetProperty("repositoryName").GetString());
        return page.RootElement.GetProperty("nextToken").GetString()!;
    }

    private static async Task<string?> SecondPageFirstNameAsync(HttpClient client, string token)
    {
        var (status, page, _) = await EcrHttp.CallAsync(client, "DescribeRepositories", $"{{\"maxResults\":1,\"nextToken\":\"{token}\"}}");
        Assert.Equal(200, status);
        return page.RootElement.GetProperty("repositories")[0].GetProperty("repositoryName").GetString();
    }

    private static async Task<Uri> DownloadUrlAsync(HttpClient client, string layer)
    {
        var (status, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"rot/dl\",\"layerDigest\":\"{layer}\"}}");
        Assert.Equal(200, status);
        return new Uri(body.RootElement.GetProperty("downloadUrl").GetString()!);
    }

    private static string TokenOf(Uri url) => url.AbsolutePath[Wharf.Server.ControlPlane.LayerDownloads.PathPrefix.Length..];
}
