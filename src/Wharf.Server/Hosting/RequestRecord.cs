using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Hosting;

/// <summary>
/// What one request was, filled in as it is handled and read when it ends by every
/// <see cref="IRequestObserver"/> (metrics, the audit trail). Created first thing for every request by
/// <see cref="RequestRecords"/>; handlers name the surface, the operation, the caller and the repository
/// as they learn them; the error writers (through <see cref="Errors.ErrorTranslation"/>) record the error.
/// </summary>
public sealed class RequestRecord
{
    /// <summary>The id the client sees (<c>x-amzn-RequestId</c> on the APIs, <c>Docker-Request-Id</c> elsewhere) and every log line carries.</summary>
    public required string RequestId { get; init; }

    /// <summary>When the request arrived.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The <see cref="Stopwatch"/> timestamp at arrival, for durations.</summary>
    public long StartTimestamp { get; init; } = Stopwatch.GetTimestamp();

    /// <summary>
    /// The surface that served it: <c>v2</c>, <c>public</c> (the public address), <c>ecr</c>, <c>ecr-public</c>,
    /// <c>iam</c>, <c>sts</c>, <c>secretsmanager</c>, <c>cloudtrail</c> (each API by its SigV4 service name),
    /// <c>console</c>, <c>health</c>, <c>metrics</c>, or <c>other</c>. Set from the path on arrival; the API
    /// handler narrows <c>api</c> to the service.
    /// </summary>
    public string Surface { get; set; } = "other";

    /// <summary>AWS's event source of an API call (<c>ecr.amazonaws.com</c>); for /v2 requests <c>ecr.amazonaws.com</c> too.</summary>
    public string? EventSource { get; set; }

    /// <summary>
    /// The operation: the API action (<c>DescribeRepositories</c>), or on /v2 one of <see cref="DataPlaneOperations"/>.
    /// Null until the handler knows it (an unknown route, a refused caller before routing).
    /// </summary>
    public string? Operation { get; set; }

    /// <summary>Who called, once authenticated (null for a refused or anonymous-and-unresolved caller).</summary>
    public Caller? Caller { get; set; }

    /// <summary>The region the call addressed, when known.</summary>
    public string? Region { get; set; }

    /// <summary>The repository the request addressed, when it named one.</summary>
    public RepositoryKey? Repository { get; set; }

    /// <summary>The request's parameters as JSON with secrets redacted, for the audit trail (set only where it records them).</summary>
    public string? RequestParameters { get; set; }

    /// <summary>The error the request ended with (the catalogue row and message), or null on success.</summary>
    public (ErrorDescriptor Row, string Message)? Error { get; set; }

    /// <summary>The record of <paramref name="context"/>; null only for a context that never passed <see cref="RequestRecords"/> (unit tests).</summary>
    public static RequestRecord? Of(HttpContext context) => context.Features.Get<RequestRecord>();
}

/// <summary>The operation names of /v2 requests (<see cref="RequestRecord.Operation"/>), as Distribution's and ECR's docs name them.</summary>
public static class DataPlaneOperations
{
    public const string Base = "Base";
    public const string Catalog = "Catalog";
    public const string ListTags = "ListTags";
    public const string GetManifest = "GetManifest";
    public const string HeadManifest = "HeadManifest";
    public const string PutManifest = "PutManifest";
    public const string DeleteManifest = "DeleteManifest";
    public const string Referrers = "Referrers";
    public const string GetBlob = "GetBlob";
    public const string HeadBlob = "HeadBlob";
    public const string DeleteBlob = "DeleteBlob";
    public const string StartUpload = "StartUpload";
    public const string UploadStatus = "UploadStatus";
    public const string UploadChunk = "UploadChunk";
    public const string CompleteUpload = "CompleteUpload";
    public const string CancelUpload = "CancelUpload";
    public const string MountBlob = "MountBlob";
}

/// <summary>Told of every request when it ends (after the response is written or the client went away). Must not block: queue, count, return.</summary>
public interface IRequestObserver
{
    void OnCompleted(HttpContext context, RequestRecord record);
}

/// <summary>
/// The first middleware: gives every request its <see cref="RequestRecord"/>, sends its id (<see cref="RequestIdHeader"/>;
/// the APIs send it as <c>x-amzn-RequestId</c>), opens the logging scope that puts the id on every log line written
/// while the request is handled, and tells the observers when it ends.
/// </summary>
internal static partial class RequestRecords
{
    /// <summary>
    /// The request id's header outside the AWS APIs. Distribution logs an id per request but sends none, and no client
    /// reads one, so Wharf names it after Distribution's own <c>Docker-</c> headers.
    /// </summary>
    public const string RequestIdHeader = "Docker-Request-Id";

    public static WebApplication UseRequestRecords(this WebApplication app)
    {
        var observers = app.Services.GetServices<IRequestObserver>().ToArray();
        var countBodies = observers.OfType<Telemetry.RequestMetrics>().Any();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory);
        var activity = app.Services.GetRequiredService<RequestActivity>();
        app.Use(async (context, next) =>
        {
            var record = new RequestRecord
            {
                RequestId = RequestIds.Next(),
                Time = time.GetUtcNow(),
                Surface = SurfaceOf(context.Request.Path),
            };
            context.Features.Set(record);
            if (record.Surface != "api")
            {
                context.Response.Headers[RequestIdHeader] = record.RequestId;
            }

            if (countBodies)
            {
                Telemetry.RequestMetrics.CountBody(context);
            }

            var counted = RequestActivity.Counts(record.Surface);
            if (counted)
            {
                activity.Arrived();
            }

            using var scope = logger.BeginScope(new RequestLogScope(record.RequestId));
            try
            {
                await next(context);
            }
            finally
            {
                if (counted)
                {
                    activity.Ended();
                }

                if (logger.IsEnabled(LogLevel.Debug))
                {
                    var elapsed = Stopwatch.GetElapsedTime(record.StartTimestamp).TotalMilliseconds;
                    var error = record.Error is { } e ? (record.Surface is "v2" or "public" ? e.Row.OciCode : e.Row.AwsType) : "-";
                    LogCompleted(logger, context.Request.Method, record.Surface, record.Operation ?? "-", context.Response.StatusCode, elapsed, error);
                }

                foreach (var observer in observers)
                {
                    observer.OnCompleted(context, record);
                }
            }
        });
        return app;
    }

    /// <summary>The category of the per-request line (<c>Logging:LogLevel:Wharf.Requests=Debug</c> turns it on: an access log without paths).</summary>
    public const string LogCategory = "Wharf.Requests";

    private static string SurfaceOf(PathString path) =>
        path.StartsWithSegments("/v2") ? "v2"
        : path.StartsWithSegments("/console") ? "console"
        : path.StartsWithSegments("/health") ? "health"
        : path.StartsWithSegments("/metrics") ? "metrics"
        : path == "/" ? "api"
        : "other";

    // No path: it names repositories and, on download URLs, carries a token.
    [LoggerMessage(EventId = WharfEventId.RequestCompleted, Level = LogLevel.Debug, Message = "{Method} {Surface} {Operation} answered {Status} in {ElapsedMs:0.0} ms (error: {Error})")]
    private static partial void LogCompleted(ILogger logger, string method, string surface, string operation, int status, double elapsedMs, string error);
}

/// <summary>
/// Request ids: version-4-shaped UUIDs, 60 random bits drawn once per process followed by a 62-bit counter, so unique
/// within the process and, by the prefix, across processes and nodes. <see cref="Guid.NewGuid"/> reads 16 bytes of
/// <c>/dev/urandom</c> with a system call each time, on every request; an id is no secret (the client is sent it), so
/// it need not be unpredictable.
/// </summary>
internal static class RequestIds
{
    private static readonly ulong Prefix = BinaryPrimitives.ReadUInt64BigEndian(RandomNumberGenerator.GetBytes(8));
    private static long counter;

    public static string Next()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Prefix);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], (ulong)Interlocked.Increment(ref counter));
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant (the counter's top bits, reached after 2^62 requests)
        return new Guid(bytes, bigEndian: true).ToString();
    }
}

/// <summary>
/// The logging scope of one request: its id as <c>RequestId</c>, which the JSON format writes as a field and the text
/// format as <c>=&gt; RequestId:…</c>. A list of one pair, as scopes from message templates are, so every provider reads it.
/// </summary>
internal sealed class RequestLogScope(string requestId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new KeyValuePair<string, object?>("RequestId", requestId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "RequestId:" + requestId;
}
