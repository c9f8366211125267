using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Server.Public.Limits;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// The fair-use limits over HTTP on the public address, with a client that follows ECR Public's bearer
/// flow (401 challenge, anonymous token from the realm): manifest GETs past the anonymous rate answer 429
/// <c>TOOMANYREQUESTS</c> with <c>Retry-After</c> and recover as time passes; blob GETs past the monthly
/// data cap answer 429 "Data limit exceeded" until next month, for anonymous callers only; the host's
/// flusher writes the counted bytes to the store; skopeo, as an anonymous client, sees the same.
/// </summary>
public sealed class PublicLimitsEndToEndTests
{
    [Fact]
    public async Task Anonymous_pulls_hit_the_rate_and_the_data_cap_with_Retry_After_and_the_rate_recovers()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Public:AnonymousPulls:RequestsPerSecond"] = "1",
                ["Public:AnonymousPulls:Burst"] = "2",
                ["Public:AnonymousMonthlyBytes"] = "1000",
                ["Public:UsageFlushInterval"] = "00:01:00",
            },
            services: s => s.AddSingleton<TimeProvider>(time));

        var root = Caller.Root(AccountId.Parse("123456789012"));
        var registries = server.GetService<PublicRegistryService>();
        await registries.CreateRepositoryAsync(root, RepositoryName.Parse("app"), null, [], Oci.Ct);
        var name = (await registries.GetRegistryAsync(root.Account, Oci.Ct))!.PrimaryAlias + "/app";

        // Published by the account (open mode: any Basic login at the realm is the default account's root).
        using var owner = server.CreatePublicClient();
        owner.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(owner, name, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:x"))));
        var manifest = JsonDocument.Parse(await Oci.PushImageAsync(owner, name, "latest", layers: 1)).RootElement;
        var layer = manifest.GetProperty("layers")[0].GetProperty("digest").GetString();
        var config = manifest.GetProperty("config").GetProperty("digest").GetString();

        using var anonymous = server.CreatePublicClient();
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(anonymous, name, basic: null));

        // The rate: a burst of 2 image pulls, then TOOMANYREQUESTS; HEADs are not pulls; a second later, one more.
        Assert.Equal(HttpStatusCode.OK, (await PullAsync(anonymous, name)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PullAsync(anonymous, name)).StatusCode);
        using (var refused = await PullAsync(anonymous, name))
        {
            await Oci.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
            Assert.Equal("Rate exceeded", (await Oci.ErrorAsync(refused)).Error.GetProperty("message").GetString());
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(HttpStatusCode.OK, (await PullAsync(anonymous, name, HttpMethod.Head)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PullAsync(owner, name)).StatusCode); // the account's own bucket
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await PullAsync(anonymous, name)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PullAsync(anonymous, name)).StatusCode);

        // The data cap: the 1000-byte layer uses this address's month; the next blob waits for next month.
        using (var blob = await anonymous.GetAsync($"/v2/{name}/blobs/{layer}", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            Assert.Equal(1000, (await blob.Content.ReadAsByteArrayAsync(Oci.Ct)).Length);
        }

        using (var refused = await anonymous.GetAsync($"/v2/{name}/blobs/{config}", Oci.Ct))
        {
            await Oci.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
            Assert.Equal("Data limit exceeded", (await Oci.ErrorAsync(refused)).Error.GetProperty("message").GetString());
            Assert.Equal(TimeSpan.FromSeconds(AnonymousDataUsage.SecondsToNextMonth(time.GetUtcNow())), refused.Headers.RetryAfter?.Delta);
        }

        using (var authenticated = await owner.GetAsync($"/v2/{name}/blobs/{config}", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, authenticated.StatusCode);
        }

        // The host's flusher writes the node's count on its interval.
        var store = server.GetService<IMetadataStore>();
        var month = AnonymousDataUsage.MonthOf(time.GetUtcNow());
        time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 100 && await store.Public.GetAnonymousBytesAsync(month, "127.0.0.1", Oci.Ct) == 0; i++)
        {
            await Task.Delay(100, Oci.Ct);
        }

        Assert.Equal(1000, await store.Public.GetAnonymousBytesAsync(month, "127.0.0.1", Oci.Ct));

        // A registry client, anonymous: skopeo follows the bearer flow and pulls its burst; past it, skopeo
        // waits the Retry-After and asks again a few times (the clock here stands still, so every retry is
        // refused too) and reports the refusal; time moves on and it pulls again. (Past the data cap it
        // would wait a minute per retry, so that refusal is checked above with a plain client only.)
        var tools = ContainerTools.Instance;
        string[] inspect = ["inspect", "--raw", "--tls-verify=false", $"docker://{server.PublicHostAndPort}/{name}:latest"];
        (await tools.SkopeoAsync(inspect)).EnsureSuccess();
        (await tools.SkopeoAsync(inspect)).EnsureSuccess();
        var skopeoRefused = await tools.SkopeoAsync(inspect);
        Assert.NotEqual(0, skopeoRefused.ExitCode);
        Assert.Contains("toomanyrequests: Rate exceeded", skopeoRefused.StandardError, StringComparison.Ordinal); // ECR Public's words
        time.Advance(TimeSpan.FromSeconds(1));
        (await tools.SkopeoAsync(inspect)).EnsureSuccess();
    }

    /// <summary>Follows the challenge of an unauthenticated manifest GET to the realm, as a registry client does.</summary>
    private static async Task<string> TokenAsync(HttpClient client, string name, string? basic)
    {
        using var challenged = await client.GetAsync($"/v2/{name}/manifests/latest", Oci.Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
        var challenge = challenged.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        var parameters = challenge.Parameter!.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('"'), StringComparer.Ordinal);
        var realm = new UriBuilder(parameters["realm"])
        {
            Query = $"service={Uri.EscapeDataString(parameters["service"])}&scope={Uri.EscapeDataString(parameters["scope"])}",
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, realm.Uri);
        if (basic is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", basic);
        }

        using var response = await client.SendAsync(request, Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Oci.Ct));
        return json.RootElement.GetProperty("token").GetString()!;
    }

    private static async Task<HttpResponseMessage> PullAsync(HttpClient client, string name, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, $"/v2/{name}/manifests/latest");
        request.Headers.Accept.ParseAdd(OciPusher.OciManifest);
        return await client.SendAsync(request, Oci.Ct);
    }
}
