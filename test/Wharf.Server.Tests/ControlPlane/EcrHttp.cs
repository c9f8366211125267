using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>Raw AWS JSON 1.1 requests, for what real SDKs never send (bad targets, bodies, signatures).</summary>
internal static class EcrHttp
{
    public const string Target = "AmazonEC2ContainerRegistry_V20150921.";

    /// <summary>A request scoped to <paramref name="region"/> (signature not computed: open mode does not check it).</summary>
    public static HttpRequestMessage Request(string operation, string body, string region = "us-east-1", string contentType = "application/x-amz-json-1.1")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", Target + operation);
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/{region}/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000");
        return request;
    }

    public static async Task<(int Status, JsonDocument Body, HttpResponseMessage Response)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text), response);
    }

    public static Task<(int Status, JsonDocument Body, HttpResponseMessage Response)> CallAsync(HttpClient client, string operation, string body, string region = "us-east-1") =>
        SendAsync(client, Request(operation, body, region));

    /// <summary>Asserts AWS's error envelope: 400, <c>__type</c>, <c>message</c> and a request id.</summary>
    public static string AssertError((int Status, JsonDocument Body, HttpResponseMessage Response) result, string type, int status = 400)
    {
        Assert.Equal(status, result.Status);
        Assert.Equal(type, result.Body.RootElement.GetProperty("__type").GetString());
        Assert.StartsWith("application/x-amz-json-1.1", result.Response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.True(result.Response.Headers.TryGetValues("x-amzn-RequestId", out var ids) && Guid.TryParse(ids.Single(), out _));
        return result.Body.RootElement.GetProperty("message").GetString()!;
    }
}
