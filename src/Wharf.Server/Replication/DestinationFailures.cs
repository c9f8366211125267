using System.Net;
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

    /// <summary>These codes as the registry clients' failure strategy (<see cref="Registries.IRegistryFailures"/>).</summary>
    public static Registries.IRegistryFailures Strategy { get; } = new Failures();

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

    private sealed class Failures : Registries.IRegistryFailures
    {
        public string CredentialsHint => "set them with 'wharf replication credentials set'";

        public Exception FromStatus(string what, HttpStatusCode status, string body) => DestinationFailures.FromStatus(what, status, body);

        public Exception? FromException(string what, Exception e, CancellationToken callerToken) => DestinationFailures.FromException(what, e, callerToken);

        public Exception Denied(string message) => new ReplicationException(AuthFailed, message, retryable: false);

        public Exception Broken(string message) => new ReplicationException(Rejected, message, retryable: false);
    }
}
