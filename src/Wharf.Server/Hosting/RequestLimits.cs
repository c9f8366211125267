using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Security;
using Wharf.Server.DataPlane;

namespace Wharf.Server.Hosting;

/// <summary>The request classes, each with its own token bucket per caller (ECR quotes its rate quotas per API action).</summary>
internal enum RequestClass
{
    Pull,
    Push,
    Read,
    Write,
    Token,
}

/// <summary>
/// Request rates per caller and <see cref="RequestClass"/>, on this node (<see cref="LimitOptions"/>). Each
/// surface calls <see cref="Throttle"/> once, right after it knows the caller; a caller over its rate gets
/// <see cref="WharfErrorCode.TooManyRequests"/>: <c>ThrottlingException</c> on the ECR API, <c>Throttling</c>
/// on the Query API, 429 <c>TOOMANYREQUESTS</c> with <c>Retry-After</c> on <c>/v2</c> — the errors the AWS
/// SDKs and registry clients back off on.
/// </summary>
internal sealed class RequestLimits : IDisposable
{
    private readonly PartitionedRateLimiter<(RequestClass Class, string Caller)> limiter;
    private readonly bool open;

    public RequestLimits(IOptions<WharfOptions> options)
    {
        open = options.Value.Auth == AuthMode.Open;
        var rates = Rates(options.Value.Limits).ToDictionary(r => Enum.Parse<RequestClass>(r.Name), r => r.Rate);
        limiter = PartitionedRateLimiter.Create<(RequestClass Class, string Caller), (RequestClass Class, string Caller)>(key =>
            rates[key.Class] is { RequestsPerSecond: > 0 } rate
                ? RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = rate.Burst,
                    TokensPerPeriod = rate.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,

                    // The partitioned limiter replenishes every bucket from one timer, and drops buckets
                    // that have been full for a while: idle callers cost nothing.
                    AutoReplenishment = false,
                })
                : RateLimitPartition.GetNoLimiter(key));
    }

    /// <summary>The configured classes by name (the setting's key under <c>Limits:</c>).</summary>
    public static IEnumerable<(string Name, RateOptions Rate)> Rates(LimitOptions limits) =>
    [
        (nameof(RequestClass.Pull), limits.Pull),
        (nameof(RequestClass.Push), limits.Push),
        (nameof(RequestClass.Read), limits.Read),
        (nameof(RequestClass.Write), limits.Write),
        (nameof(RequestClass.Token), limits.Token),
    ];

    /// <summary>Takes one request of <paramref name="requestClass"/> from the caller's bucket, or throws <see cref="WharfErrorCode.TooManyRequests"/>.</summary>
    public void Throttle(HttpContext context, Caller caller, RequestClass requestClass)
    {
        using var lease = limiter.AttemptAcquire((requestClass, CallerKey(context, caller)));
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            throw new WharfException(WharfErrorCode.TooManyRequests)
            {
                Headers = new Dictionary<string, string> { ["Retry-After"] = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture) },
            };
        }
    }

    /// <summary>Who is counted: the principal, or the client's address when every caller looks alike (anonymous, open mode).</summary>
    public string CallerKey(HttpContext context, Caller caller) =>
        open || caller.IsAnonymous ? "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown") : caller.PrincipalArn;

    public static RequestClass ForEcr(string operation) => operation switch
    {
        "BatchGetImage" or "GetDownloadUrlForLayer" or "BatchCheckLayerAvailability" => RequestClass.Pull,
        "InitiateLayerUpload" or "UploadLayerPart" or "CompleteLayerUpload" or "PutImage" => RequestClass.Push,
        "GetAuthorizationToken" => RequestClass.Token,
        _ => IsRead(operation) ? RequestClass.Read : RequestClass.Write,
    };

    /// <summary>
    /// ECR Public's operations (the <c>ecr-public</c> API): as ECR's of the same names — the layer checks
    /// count as pulls, the layer-upload API and <c>PutImage</c> as pushes (ECR Public's own quotas are
    /// tightest there), <c>GetAuthorizationToken</c> as a token; its catalog and registry reads
    /// (<c>DescribeImageTags</c>, <c>DescribeRegistries</c>, <c>Get*CatalogData</c>) as reads, the rest as writes.
    /// </summary>
    public static RequestClass ForEcrPublic(string operation) => operation switch
    {
        "BatchCheckLayerAvailability" => RequestClass.Pull,
        "InitiateLayerUpload" or "UploadLayerPart" or "CompleteLayerUpload" or "PutImage" => RequestClass.Push,
        "GetAuthorizationToken" => RequestClass.Token,
        _ => IsRead(operation) ? RequestClass.Read : RequestClass.Write,
    };

    public static RequestClass ForQuery(string action) =>
        action is "AssumeRole" or "GetCallerIdentity" ? RequestClass.Token : IsRead(action) ? RequestClass.Read : RequestClass.Write;

    public static RequestClass ForRegistry(RouteKind route, string method) => route switch
    {
        RouteKind.Catalog or RouteKind.Tags => RequestClass.Read,
        RouteKind.UploadStart or RouteKind.Upload => RequestClass.Push,
        RouteKind.Manifest when HttpMethods.IsPut(method) => RequestClass.Push,
        RouteKind.Manifest or RouteKind.Blob when HttpMethods.IsDelete(method) => RequestClass.Write,
        _ => RequestClass.Pull,
    };

    private static bool IsRead(string operation) =>
        operation.StartsWith("Describe", StringComparison.Ordinal) || operation.StartsWith("List", StringComparison.Ordinal)
        || operation.StartsWith("Get", StringComparison.Ordinal) || operation.StartsWith("BatchGet", StringComparison.Ordinal);

    public void Dispose() => limiter.Dispose();
}
