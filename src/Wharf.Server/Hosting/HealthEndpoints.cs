using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Storage;

namespace Wharf.Server.Hosting;

/// <summary>
/// <c>/health/live</c>: the process answers (200 while it runs). <c>/health/ready</c> and
/// <c>/health</c>: it answers and so does each dependency — the metadata store and the blob store, each
/// reported on its own — 503 with the reason otherwise. The reason names the failure, never the
/// store's address or credentials (the log has the details).
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
        var metadata = context.RequestServices.GetRequiredService<IMetadataStore>();
        var blobs = context.RequestServices.GetRequiredService<IBlobStore>();
        var blobBackend = context.RequestServices.GetRequiredService<IOptions<WharfOptions>>().Value.Storage.Backend switch
        {
            StorageBackend.S3 => "s3",
            _ => "filesystem",
        };

        // Both at once, so that a dependency that hangs costs one timeout, not two.
        var metadataCheck = ProbeAsync(context, async token => await metadata.PingAsync(token) ? null : "did not answer the ping");
        var blobCheck = ProbeAsync(context, async token =>
        {
            await blobs.CheckAsync(token);
            return null;
        });
        var (metadataReason, metadataDetail, metadataFailure) = await metadataCheck;
        var (blobReason, blobDetail, blobFailure) = await blobCheck;

        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Wharf.Health");
        var reasons = new List<string>();
        if (metadataReason is not null)
        {
            logger.NotReady(metadata.Backend, metadataDetail!, metadataFailure);
            reasons.Add($"the {metadata.Backend} metadata store {metadataReason}");
        }

        if (blobReason is not null)
        {
            logger.BlobStoreNotReady(blobBackend, blobDetail!, blobFailure);
            reasons.Add($"the {blobBackend} blob store {blobReason}");
        }

        var body = new JsonObject { ["status"] = reasons.Count == 0 ? "ok" : "unavailable" };
        if (reasons.Count > 0)
        {
            body["reason"] = string.Join("; ", reasons);
        }

        body["metadata"] = Dependency(metadata.Backend, metadataReason);
        body["blobs"] = Dependency(blobBackend, blobReason);
        await WriteAsync(context, reasons.Count == 0 ? 200 : 503, body.ToJsonString());
    }

    private static JsonObject Dependency(string backend, string? reason)
    {
        var dependency = new JsonObject { ["backend"] = backend, ["status"] = reason is null ? "ok" : "unreachable" };
        if (reason is not null)
        {
            dependency["reason"] = reason;
        }

        return dependency;
    }

    /// <summary>
    /// Runs one dependency's check within <see cref="PingTimeout"/>: null when it passed, else the reason
    /// the (anonymous) answer gives and the detail the log gets.
    /// </summary>
    private static async Task<(string? Reason, string? Detail, Exception? Failure)> ProbeAsync(HttpContext context, Func<CancellationToken, Task<string?>> check)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(PingTimeout);
        try
        {
            var reason = await check(timeout.Token);
            return (reason, reason, null);
        }
        catch (BlobStoreUnavailableException e)
        {
            // The store's one-line reason names its endpoint and bucket: the log has it, the answer
            // does not. No stack for a known condition.
            return ("is unavailable", e.Message, null);
        }
        catch (OperationCanceledException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            var reason = $"did not answer within {PingTimeout.TotalSeconds:0} s";
            return (reason, reason, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var reason = $"failed its check ({e.GetType().Name})";
            return (reason, reason, e);
        }
    }

    private static Task WriteAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }
}
