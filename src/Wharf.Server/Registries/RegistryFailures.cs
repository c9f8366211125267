using System.Net;
using System.Text;

namespace Wharf.Server.Registries;

/// <summary>
/// How a caller of another registry names what went wrong there: replication as its destination failure codes
/// (<see cref="Replication.DestinationFailures"/>), the pull-through cache as <see cref="Core.PullThroughCache.UpstreamException"/>.
/// The clients of this folder (the challenge auth, the AWS API client, the bounded reads) raise every failure
/// through one of these, so each caller keeps its own errors without a second copy of the client.
/// </summary>
internal interface IRegistryFailures
{
    /// <summary>An answer with a non-success status; <paramref name="body"/> is at most <see cref="RegistryHttp.MaxErrorBody"/> bytes of it, on one line.</summary>
    Exception FromStatus(string what, HttpStatusCode status, string body);

    /// <summary>
    /// A transport failure or a timeout as the caller's failure; null when <paramref name="e"/> is not one (or is
    /// already the caller's). The caller's own cancellation (<paramref name="callerToken"/>) is not a failure: it propagates.
    /// </summary>
    Exception? FromException(string what, Exception e, CancellationToken callerToken);

    /// <summary>No credentials, credentials refused, or an authentication the peer asks for that cannot be given.</summary>
    Exception Denied(string message);

    /// <summary>An answer that breaks the protocol or a bound (too long, not JSON, no token where one must be).</summary>
    Exception Broken(string message);

    /// <summary>How the operator gives the credentials a peer asks for (ends a "… asks for a user name and password; " sentence).</summary>
    string CredentialsHint { get; }
}

/// <summary>Bounded reads of another registry's answers: every byte read from a peer is read to a cap.</summary>
internal static class RegistryHttp
{
    /// <summary>The largest part of an error body read: enough for a message, never a flood.</summary>
    public const int MaxErrorBody = 4096;

    /// <summary>
    /// A successful answer's body, read to at most <paramref name="max"/> bytes whatever its framing (a chunked
    /// answer declares no length): a peer that sends more is refused (<see cref="IRegistryFailures.Broken"/>) rather than buffered.
    /// </summary>
    public static async Task<MemoryStream> ReadBoundedAsync(HttpResponseMessage response, int max, string what, IRegistryFailures failures, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > max)
        {
            throw failures.Broken($"{what} answered with more than {max} bytes");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + read > max)
            {
                throw failures.Broken($"{what} answered with more than {max} bytes");
            }

            body.Write(buffer, 0, read);
        }

        body.Position = 0;
        return body;
    }

    /// <summary>At most <see cref="MaxErrorBody"/> bytes of the response body, as text, on one line (empty when it cannot be read).</summary>
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
