using Wharf.Core.Metadata;

namespace Wharf.Server.Hosting;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c> and <c>/health</c>: it answers and
/// the metadata store does too (503 with the reason otherwise).
/// </summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health/live", (HttpContext context) => WriteAsync(context, 200, """{"status":"ok"}"""));
        endpoints.MapGet("/health/ready", ReadyAsync);
        endpoints.MapGet("/health", ReadyAsync);
        return endpoints;
    }

    private static async Task ReadyAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<IMetadataStore>();
        bool healthy;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                healthy = await store.PingAsync(timeout.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                healthy = false;
            }
        }

        await (healthy
            ? WriteAsync(context, 200, $$$"""{"status":"ok","metadata":{"backend":"{{{store.Backend}}}","status":"ok"}}""")
            : WriteAsync(context, 503, $$$"""{"status":"unavailable","metadata":{"backend":"{{{store.Backend}}}","status":"unreachable"}}"""));
    }

    private static Task WriteAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }
}
