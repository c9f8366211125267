using System.Net;
using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Registries;

namespace Wharf.Server.PullThroughCache;

/// <summary>
/// The registry clients' failures as the pull-through cache names them (<see cref="UpstreamException"/>): 404 and
/// the OCI codes NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN are NotFound; 401 and 403 AccessDenied; 429
/// TooManyRequests; everything else (5xx, another 4xx, timeouts, refused connections, bad TLS, broken framing,
/// answers over a bound) Unavailable. Messages carry at most a few hundred characters of the upstream's error.
/// </summary>
internal sealed class UpstreamFailures : IRegistryFailures
{
    private const int MaxDetail = 300;

    public static UpstreamFailures Instance { get; } = new();

    public string CredentialsHint => "give the pull through cache rule a credentialArn whose secret holds 'username' and 'accessToken'";

    public Exception FromStatus(string what, HttpStatusCode status, string body)
    {
        var detail = body.Length == 0 ? string.Empty : ": " + (body.Length <= MaxDetail ? body : body[..MaxDetail] + "...");
        return (int)status switch
        {
            _ when status == HttpStatusCode.NotFound || NamesUnknown(body) => new UpstreamException(UpstreamFailure.NotFound, $"{what} answered {(int)status}, not found{detail}"),
            401 or 403 => new UpstreamException(UpstreamFailure.AccessDenied, $"{what} was refused with {(int)status}{detail}"),
            429 => new UpstreamException(UpstreamFailure.TooManyRequests, $"{what} answered 429, too many requests{detail}"),
            _ => new UpstreamException(UpstreamFailure.Unavailable, $"{what} answered {(int)status}{detail}"),
        };
    }

    public Exception? FromException(string what, Exception e, CancellationToken callerToken) => e switch
    {
        UpstreamException or WharfException => null,
        OperationCanceledException when !callerToken.IsCancellationRequested => new UpstreamException(UpstreamFailure.Unavailable, $"{what} did not answer in time", e),
        HttpRequestException { StatusCode: null } or IOException => new UpstreamException(UpstreamFailure.Unavailable, $"{what} failed: {e.Message}", e),
        _ => null,
    };

    public Exception Denied(string message) => new UpstreamException(UpstreamFailure.AccessDenied, message);

    public Exception Broken(string message) => new UpstreamException(UpstreamFailure.Unavailable, message);

    /// <summary>An OCI error body (<c>{"errors":[{"code":…}]}</c>) naming a repository, manifest or blob the upstream does not have.</summary>
    private static bool NamesUnknown(string body)
    {
        if (!body.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("code", out var code)
                    && code.ValueKind == JsonValueKind.String && code.GetString() is "NAME_UNKNOWN" or "MANIFEST_UNKNOWN" or "BLOB_UNKNOWN");
        }
        catch (JsonException)
        {
            // An error body cut at the bound, or not JSON: its status decides.
            return false;
        }
    }
}
