using System.Threading.Channels;
using Wharf.Server.Hosting;

namespace Wharf.Server.Audit;

/// <summary>What the request thread keeps of a finished call: the record and the few request facts read before the context is recycled.</summary>
internal sealed record AuditEntry(RequestRecord Record, string Method, string Path, int Status, string? UserAgent, string? SourceIp, string? Target, string? Authorization);

/// <summary>
/// The audit trail's <see cref="IRequestObserver"/>: decides whether a finished request is recorded and queues
/// it for <see cref="AuditWriter"/>. Never waits: the queue is bounded (<c>Audit:QueueCapacity</c>), and a
/// record that does not fit is dropped and counted (the writer logs the count).
/// </summary>
internal sealed class AuditRecorder : IRequestObserver
{
    private const int MaxHeaderChars = 1024;

    private readonly Channel<AuditEntry> queue;
    private long dropped;

    public AuditRecorder(Microsoft.Extensions.Options.IOptions<WharfOptions> options)
    {
        queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(options.Value.Audit.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails rather than evicting a queued record
        });
    }

    public ChannelReader<AuditEntry> Reader => queue.Reader;

    /// <summary>Records dropped since the last call (a full queue, or calls ending after shutdown began).</summary>
    public long TakeDropped() => Interlocked.Exchange(ref dropped, 0);

    /// <summary>No more records: the writer drains what is queued and stops.</summary>
    public void Complete() => queue.Writer.TryComplete();

    public void OnCompleted(HttpContext context, RequestRecord record)
    {
        var request = context.Request;
        var status = context.Response.StatusCode;
        if (!IsRecorded(record, request.Method, request.Path, status))
        {
            return;
        }

        var entry = new AuditEntry(
            record,
            request.Method,
            Cut(request.Path.Value) ?? "/",
            status,
            Cut(request.Headers.UserAgent.ToString()),
            record.Caller?.SourceIp ?? context.Connection.RemoteIpAddress?.ToString(),
            // Only for a call refused before its service or operation was known: they are read for the event's source and name.
            record.Operation is null || record.EventSource is null ? Cut(request.Headers["X-Amz-Target"].ToString()) : null,
            record.Caller is null ? Cut(request.Headers.Authorization.ToString()) : null);
        if (!queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref dropped);
        }
    }

    /// <summary>
    /// Every API call; on /v2 every write and delete, and every refusal (401, 403) except the unauthenticated
    /// <c>GET /v2/</c> every client sends first to learn how to sign in.
    /// </summary>
    public static bool IsRecorded(RequestRecord record, string method, PathString path, int status)
    {
        switch (record.Surface)
        {
            case "v2" or "public":
                if (HttpMethods.IsPut(method) || HttpMethods.IsPost(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method))
                {
                    return true;
                }

                return status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden
                    && !(status == StatusCodes.Status401Unauthorized && record.Caller is null && IsBase(path));
            case "api" or "ecr" or "ecr-public" or "secretsmanager" or "iam" or "sts" or "cloudtrail" or "kms":
                return true;
            default:
                // A later API names itself by its event source.
                return record.EventSource is not null && record.Surface is not ("console" or "health" or "metrics" or "gallery" or "public-token" or "other");
        }
    }

    private static bool IsBase(PathString path)
    {
        var value = path.Value ?? string.Empty;
        return value is "/v2" or "/v2/" || value.EndsWith("/v2/", StringComparison.Ordinal);
    }

    private static string? Cut(string? text) => text is null || text.Length == 0 ? null : text.Length <= MaxHeaderChars ? text : text[..MaxHeaderChars];
}
