using System.Net;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// In IAM mode nothing answers an anonymous caller with anything but 401 or 403: every API operation,
/// every /v2 route and method, the IAM and STS APIs (form and query string), download URLs. The
/// routed endpoints are enumerated from the server itself, so a new one without a probe here fails;
/// the health probes are the one deliberate exception (they say "ok" or "not ready", nothing more), and <c>/metrics</c>,
/// which answers only the addresses of <c>Telemetry:Metrics:AllowFrom</c> (MetricsAccessTests) and names no one.
/// </summary>
public sealed class AnonymousAccessTests
{
    [Fact]
    public async Task Every_endpoint_refuses_anonymous_callers()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        using var client = server.CreateClient();

        foreach (var operation in ServiceModel.Ecr.OperationNames)
        {
            using var request = EcrHttp.Request(operation, "{\"repositoryName\":\"team/app\"}");
            request.Headers.Remove("Authorization");
            var (status, body, _) = await EcrHttp.SendAsync(client, request);
            Assert.True(status == 403, $"{operation} answered {status} to an anonymous caller");
            Assert.Equal("MissingAuthenticationTokenException", body.RootElement.GetProperty("__type").GetString());
        }

        // The KMS-compatible key service on the same endpoint: every operation of its model, implemented or not.
        foreach (var operation in ServiceModel.Kms.OperationNames)
        {
            using var request = EcrHttp.Request(operation, "{\"KeyId\":\"alias/aws/ecr\",\"CiphertextBlob\":\"AQEA\"}");
            request.Headers.Remove("X-Amz-Target");
            request.Headers.TryAddWithoutValidation("X-Amz-Target", "TrentService." + operation);
            request.Headers.Remove("Authorization");
            var (status, body, _) = await EcrHttp.SendAsync(client, request);
            Assert.True(status == 403, $"kms {operation} answered {status} to an anonymous caller");
            Assert.Equal("MissingAuthenticationTokenException", body.RootElement.GetProperty("__type").GetString());
        }

        foreach (var action in new[] { "ListUsers", "CreateUser", "CreateAccessKey", "CreateRole", "CreateGroup", "AssumeRole", "GetCallerIdentity", "NoSuchAction" })
        {
            using var form = new StringContent($"Action={action}&Version=2010-05-08&UserName=x", Encoding.UTF8, "application/x-www-form-urlencoded");
            using var response = await client.PostAsync("/", form, Oci.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{action} answered {(int)response.StatusCode}");
            using var query = await client.GetAsync($"/?Action={action}&Version=2011-06-15&RoleArn=x", Oci.Ct);
            Assert.True(query.StatusCode == HttpStatusCode.Forbidden, $"GET {action} answered {(int)query.StatusCode}");
        }

        // Every routed endpoint is one probed above or below; only the health probes answer anonymously.
        var probed = new HashSet<string> { "GET /", "POST /", "GET /layers/{token}", "HEAD /layers/{token}", "* /v2", "* /v2/{**rest}" };
        probed.UnionWith(await ProbeConsoleAsync(server, client));
        var anonymous = new HashSet<string> { "GET /health/live", "GET /health/ready", "GET /health" };
        var routed = server.GetService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} /{e.RoutePattern.RawText?.TrimStart('/')}"))
            .ToList();
        Assert.NotEmpty(routed);
        Assert.All(routed, route => Assert.True(probed.Contains(route) || anonymous.Contains(route), $"{route} is not probed for anonymous access"));
        foreach (var route in anonymous)
        {
            using var health = await client.GetAsync(route.Split(' ')[1], Oci.Ct);
            Assert.DoesNotContain("123456789012", await health.Content.ReadAsStringAsync(Oci.Ct), StringComparison.Ordinal);
        }

        // /metrics is middleware, not a routed endpoint: deliberately served to the allow-listed addresses (loopback by
        // default, as this client is) whoever they are, and it names no account, repository or principal.
        using (var metrics = await client.GetAsync("/metrics", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.DoesNotContain("123456789012", await metrics.Content.ReadAsStringAsync(Oci.Ct), StringComparison.Ordinal);
        }

        var digest = Oci.Sha256([1, 2, 3]);
        (HttpMethod Method, string Path)[] routes =
        [
            (HttpMethod.Get, "/v2/"), (HttpMethod.Get, "/v2/_catalog"), (HttpMethod.Get, "/v2/team/app/tags/list"),
            (HttpMethod.Get, "/v2/team/app/manifests/latest"), (HttpMethod.Head, "/v2/team/app/manifests/latest"),
            (HttpMethod.Put, "/v2/team/app/manifests/latest"), (HttpMethod.Delete, $"/v2/team/app/manifests/{digest}"),
            (HttpMethod.Get, $"/v2/team/app/blobs/{digest}"), (HttpMethod.Head, $"/v2/team/app/blobs/{digest}"),
            (HttpMethod.Delete, $"/v2/team/app/blobs/{digest}"), (HttpMethod.Post, "/v2/team/app/blobs/uploads/"),
            (HttpMethod.Patch, "/v2/team/app/blobs/uploads/abc"), (HttpMethod.Put, $"/v2/team/app/blobs/uploads/abc?digest={digest}"),
            (HttpMethod.Get, "/v2/team/app/blobs/uploads/abc"), (HttpMethod.Delete, "/v2/team/app/blobs/uploads/abc"),
            (HttpMethod.Get, $"/v2/team/app/referrers/{digest}"), (HttpMethod.Get, "/layers/forged.token"),
            (HttpMethod.Get, "/v2"), (HttpMethod.Options, "/v2/team/app/tags/list"), (HttpMethod.Get, "/v2/team/app/no/such/route"),
        ];
        foreach (var (method, path) in routes)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get || method == HttpMethod.Head ? null : new ByteArrayContent([1]) };
            using var response = await client.SendAsync(request, Oci.Ct);
            Assert.True(
                response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden,
                $"{method} {path} answered {(int)response.StatusCode} to an anonymous caller");
        }
    }

    /// <summary>
    /// Every console route, anonymously: pages send the caller to the sign-in page (303) or refuse it (401/403),
    /// and show nothing of the registry; only endpoints marked for signed-out use (sign-in, assets) answer
    /// otherwise, and they must not name the account either. Returns the routes probed.
    /// </summary>
    private static async Task<IReadOnlyList<string>> ProbeConsoleAsync(WharfTestServer server, HttpClient client)
    {
        var probed = new List<string>();
        var digest = Oci.Sha256([1, 2, 3]);
        foreach (var endpoint in server.GetService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("console", StringComparison.Ordinal) == true))
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var path = pattern.Replace("{account}", "123456789012", StringComparison.Ordinal).Replace("{region}", "us-east-1", StringComparison.Ordinal)
                .Replace("{**name}", "team/app", StringComparison.Ordinal).Replace("{**rest}", "team/app", StringComparison.Ordinal)
                .Replace("{digest}", digest, StringComparison.Ordinal).Replace("{file}", "x", StringComparison.Ordinal).Replace("{name}", "alice", StringComparison.Ordinal);
            Assert.DoesNotContain("{", path, StringComparison.Ordinal);
            var signedOut = endpoint.Metadata.GetMetadata<global::Wharf.Server.WebConsole.SignedOutAllowed>() is not null || pattern.StartsWith("/console/-/", StringComparison.Ordinal);
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method == "POST")
                {
                    request.Content = new FormUrlEncodedContent([new("do", "delete"), new("_csrf", "forged")]);
                }

                using var response = await client.SendAsync(request, Oci.Ct);
                var body = await response.Content.ReadAsStringAsync(Oci.Ct);
                Assert.DoesNotContain("123456789012", body, StringComparison.Ordinal);
                if (!signedOut)
                {
                    var toSignIn = response.StatusCode == HttpStatusCode.SeeOther && response.Headers.Location?.OriginalString.StartsWith("/console/sign-in", StringComparison.Ordinal) == true;
                    Assert.True(
                        toSignIn || response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden,
                        $"{method} {path} answered {(int)response.StatusCode} to an anonymous caller");
                }

                probed.Add($"{method} {pattern}");
            }
        }

        return probed;
    }
}
