using Wharf.Core.Metadata;

namespace Wharf.Server.Hosting;

/// <summary>
/// <c>/health/live</c>: the process answers (200 while it runs). <c>/health/ready</c> and
/// <c>/health</c>: it answers and the metadata store does too — 503 with the reason otherwise. The
/// reason names the failure, never the store's address or credentials (the log has the details).
/// </summary>
internal static class HealthEndpoints
{
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

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
        string? reason = null;
        Exception? failure = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            timeout.CancelAfter(PingTimeout);
            try
            {
                if (!await store.PingAsync(timeout.Token))
                {
                    reason = "did not answer the ping";
                }
            }
            catch (OperationCanceledException e) when (!context.RequestAborted.IsCancellationRequested)
            {
                (reason, failure) = ($"did not answer within {PingTimeout.TotalSeconds:0} s", e);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                (reason, failure) = ($"failed the ping ({e.GetType().Name})", e);
            }
        }

        if (reason is null)
        {
            await WriteAsync(context, 200, $$$"""{"status":"ok","metadata":{"backend":"{{{store.Backend}}}","status":"ok"}}""");
            return;
        }

        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Wharf.Health").NotReady(store.Backend, reason, failure);
        await WriteAsync(context, 503, $$$"""{"status":"unavailable","reason":"the {{{store.Backend}}} metadata store {{{reason}}}","metadata":{"backend":"{{{store.Backend}}}","status":"unreachable"}}""");
    }

    private static Task WriteAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }
}
