using System.Net;
using System.Text;
using Wharf.Core.Replication;

namespace Wharf.Server.Replication;

/// <summary>
/// The failure codes a remote destination can cause (docs/replication.md, "Statuses and failure codes"), and
/// the one place that turns an HTTP outcome into one: an outage is retried while the status stays
/// <c>IN_PROGRESS</c>; a refusal is <c>FAILED</c> until the next push (or a backfill) tries again.
/// </summary>
internal static class DestinationFailures
{
    /// <summary>No connection, or no answer in time (retried).</summary>
    public const string Unreachable = "DESTINATION_UNREACHABLE";

    /// <summary>The destination answered 5xx, 408 or 429 (retried).</summary>
    public const string Unavailable = "DESTINATION_UNAVAILABLE";

    /// <summary>The destination refused the credentials (401, 403, AccessDenied), or none are set for the region.</summary>
    public const string AuthFailed = "DESTINATION_AUTH_FAILED";

    /// <summary>The destination refused the request itself (another 4xx: an invalid manifest, an immutable tag, …); the local target's code.</summary>
    public const string Rejected = ReplicationFailureCodes.DestinationRefused;

    /// <summary>The largest part of an error body read: enough for a message, never a flood.</summary>
    public const int MaxErrorBody = 4096;

    public static ReplicationException FromStatus(string what, HttpStatusCode status, string body)
    {
        var detail = body.Length == 0 ? string.Empty : $": {body}";
        return (int)status switch
        {
            401 or 403 => new ReplicationException(AuthFailed, $"{what} was refused with {(int)status} (check 'wharf replication credentials'){detail}", retryable: false),
            408 or 429 or >= 500 => new ReplicationException(Unavailable, $"{what} answered {(int)status}{detail}", retryable: true),
            _ => new ReplicationException(Rejected, $"{what} was rejected with {(int)status}{detail}", retryable: false),
        };
    }

    /// <summary>A transport failure or a timeout (the caller's own cancellation is not one: it propagates).</summary>
    public static ReplicationException? FromException(string what, Exception e, CancellationToken callerToken) => e switch
    {
        ReplicationException => null,
        OperationCanceledException when !callerToken.IsCancellationRequested => new ReplicationException(Unreachable, $"{what} did not answer in time", retryable: true, e),
        HttpRequestException { StatusCode: null } or IOException => new ReplicationException(Unreachable, $"{what} failed: {e.Message}", retryable: true, e),
        _ => null,
    };

    /// <summary>At most <see cref="MaxErrorBody"/> bytes of the response body, as text, on one line.</summary>
    /// <summary>
    /// A successful answer's body, read to at most <paramref name="max"/> bytes whatever its framing (a chunked
    /// answer declares no length): a destination that sends more is refused rather than buffered.
    /// </summary>
    public static async Task<MemoryStream> ReadBoundedAsync(HttpResponseMessage response, int max, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > max)
        {
            throw new ReplicationException(Rejected, $"{what} answered with more than {max} bytes", retryable: false);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + read > max)
            {
                throw new ReplicationException(Rejected, $"{what} answered with more than {max} bytes", retryable: false);
            }

            body.Write(buffer, 0, read);
        }

        body.Position = 0;
        return body;
    }

    public static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBody];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
            {
                total += read;
            }

            return string.Join(' ', Encoding.UTF8.GetString(buffer, 0, total).ReplaceLineEndings(" ").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return string.Empty;
        }
    }
}
