using System.Net;
using System.Text;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Identity;

/// <summary>In IAM mode nothing answers an anonymous caller with anything but 401 or 403: every API operation, every /v2 route and method, the IAM API, download URLs.</summary>
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

        foreach (var action in new[] { "ListUsers", "CreateUser", "CreateAccessKey", "GetCallerIdentity", "NoSuchAction" })
        {
            using var form = new StringContent($"Action={action}&Version=2010-05-08&UserName=x", Encoding.UTF8, "application/x-www-form-urlencoded");
            using var response = await client.PostAsync("/", form, Oci.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{action} answered {(int)response.StatusCode}");
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
}
