using System.Diagnostics;
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

/// <summary>The first middleware: gives every request its <see cref="RequestRecord"/> and tells the observers when it ends.</summary>
internal static class RequestRecords
{
    public static WebApplication UseRequestRecords(this WebApplication app)
    {
        var observers = app.Services.GetServices<IRequestObserver>().ToArray();
        var time = app.Services.GetRequiredService<TimeProvider>();
        app.Use(async (context, next) =>
        {
            var record = new RequestRecord
            {
                RequestId = Guid.NewGuid().ToString(),
                Time = time.GetUtcNow(),
                Surface = SurfaceOf(context.Request.Path),
            };
            context.Features.Set(record);
            try
            {
                await next(context);
            }
            finally
            {
                foreach (var observer in observers)
                {
                    observer.OnCompleted(context, record);
                }
            }
        });
        return app;
    }

    private static string SurfaceOf(PathString path) =>
        path.StartsWithSegments("/v2") ? "v2"
        : path.StartsWithSegments("/console") ? "console"
        : path.StartsWithSegments("/health") ? "health"
        : path.StartsWithSegments("/metrics") ? "metrics"
        : path == "/" ? "api"
        : "other";
}
