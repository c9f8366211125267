using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Identity;
using Wharf.Core.Replication;

namespace Wharf.Server.Replication;

/// <summary>An ECR API error the remote answered: its <c>__type</c> and message.</summary>
internal sealed class EcrApiException(HttpStatusCode status, string type, string message) : Exception($"{type}: {message}")
{
    public HttpStatusCode Status { get; } = status;

    public string Type { get; } = type;
}

/// <summary>
/// The ECR API (AWS JSON 1.1) of a remote Wharf, signed with SigV4 exactly as the AWS CLI signs it, by
/// Core's <see cref="SigV4"/>: one POST per operation, a timeout on each, error bodies read up to a cap.
/// </summary>
internal sealed class EcrApiClient(HttpClient http, Uri endpoint, string region, Func<CancellationToken, Task<RemoteCredential>> credentials, TimeProvider time, TimeSpan timeout)
{
    private const int MaxResponse = 1024 * 1024;

    /// <summary>Calls <paramref name="operation"/>; an AWS error comes back as <see cref="EcrApiException"/>, an outage as a retryable <see cref="ReplicationException"/>.</summary>
    public async Task<JsonObject> CallAsync(string operation, JsonObject input, CancellationToken cancellationToken)
    {
        var credential = await credentials(cancellationToken);
        var body = JsonSerializer.SerializeToUtf8Bytes(input);
        var now = time.GetUtcNow();
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var target = "AmazonEC2ContainerRegistry_V20150921." + operation;
        const string contentType = "application/x-amz-json-1.1";
        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        var headers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = contentType,
            ["host"] = host,
            ["x-amz-date"] = amzDate,
            ["x-amz-target"] = target,
        };
        var path = endpoint.AbsolutePath;
        var claim = new SigV4Claim(credential.Identity, amzDate[..8], region, "ecr", [.. headers.Keys.Order(StringComparer.Ordinal)], string.Empty, now, null, false, null);
        var signature = SigV4.Sign(
            new SigV4Request("POST", path, [], name => headers.GetValueOrDefault(name), SigV4.Hex(SHA256.HashData(body))),
            claim,
            credential.Secret);

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"{SigV4.Algorithm} Credential={credential.Identity}/{claim.Scope}, SignedHeaders={string.Join(';', claim.SignedHeaders)}, Signature={signature}");

        var what = $"{operation} on {endpoint.GetLeftPart(UriPartial.Authority)} ({region})";
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
            if ((int)response.StatusCode is 408 or 429 or >= 500)
            {
                throw DestinationFailures.FromStatus(what, response.StatusCode, await DestinationFailures.ReadErrorAsync(response, timer.Token));
            }

            JsonNode? parsed;
            try
            {
                if (response.IsSuccessStatusCode)
                {
                    await using var answer = await DestinationFailures.ReadBoundedAsync(response, MaxResponse, what, timer.Token);
                    parsed = await JsonNode.ParseAsync(answer, cancellationToken: timer.Token);
                }
                else
                {
                    parsed = JsonNode.Parse(await DestinationFailures.ReadErrorAsync(response, timer.Token));
                }
            }
            catch (JsonException)
            {
                throw new ReplicationException(DestinationFailures.Rejected, $"{what} answered {(int)response.StatusCode} with something other than JSON: is the endpoint a Wharf?", retryable: false);
            }

            if (!response.IsSuccessStatusCode)
            {
                // "__type" may carry a namespace ("com.amazonaws.ecr#RepositoryNotFoundException"), as AWS's do.
                var type = parsed?["__type"]?.GetValue<string>() ?? response.StatusCode.ToString();
                throw new EcrApiException(response.StatusCode, type[(type.LastIndexOf('#') + 1)..], parsed?["message"]?.GetValue<string>() ?? string.Empty);
            }

            return parsed as JsonObject ?? [];
        }
        catch (Exception e) when (DestinationFailures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }
}
