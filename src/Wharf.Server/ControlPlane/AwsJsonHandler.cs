using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Errors;
using Wharf.Server.Identity;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// One service spoken over AWS JSON 1.1 on <c>POST /</c>: its botocore model (the <c>X-Amz-Target</c>
/// prefix and the SigV4 service name a credential scope must carry), its operations, and how each counts
/// against the request limits. ECR is one; Secrets Manager another.
/// </summary>
internal interface IAwsJsonService
{
    ServiceModel Model { get; }

    /// <summary>The request class an operation is throttled as.</summary>
    Hosting.RequestClass Classify(string operation);

    /// <summary>Runs the operation (already validated against <see cref="Model"/>); its result members, or throws.</summary>
    Task<JsonObject> InvokeAsync(EcrCall call);

    /// <summary>
    /// Checks the input before the model does, for a service whose own errors differ from the model's generic
    /// validation error (CloudTrail's <c>InvalidMaxResultsException</c>). Most services need nothing here.
    /// </summary>
    void CheckInput(string operation, JsonElement input)
    {
    }
}

/// <summary>
/// <c>POST /</c> with <c>X-Amz-Target</c>: the AWS JSON 1.1 protocol. Checks the target, content type
/// and body; resolves the caller and region; validates the input against the botocore service model of the
/// service the target names; dispatches to the operation; writes the result or AWS's error shape, always
/// with <c>x-amzn-RequestId</c>.
/// </summary>
internal sealed class AwsJsonHandler(IApiIdentityResolver identities, IEnumerable<IAwsJsonService> services, Hosting.RequestLimits limits, Audit.AuditSwitch audit, ILogger<AwsJsonHandler> logger) : IDisposable
{
    private readonly FrozenDictionary<string, IAwsJsonService> byPrefix =
        services.ToFrozenDictionary(s => s.Model.TargetPrefix, StringComparer.Ordinal);

    /// <summary>The largest body accepted: an <c>UploadLayerPart</c> of 20 MiB is about 27 MiB of base64.</summary>
    public const int MaxBodyBytes = 32 * 1024 * 1024;

    /// <summary>
    /// What any operation may send before anything about the caller is known. The models' inputs are
    /// small except <c>UploadLayerPart</c>'s <c>layerPartBlob</c> (20 MiB), <c>PutImage</c>'s
    /// <c>imageManifest</c> (4 MiB of text) and ECR Public's catalog data (a logo and long texts); the
    /// largest other member is a 30 KiB lifecycle policy.
    /// </summary>
    public const int MaxUnauthenticatedBytes = 1024 * 1024;

    /// <summary><c>PutImage</c>: a 4 MiB manifest, JSON-escaped inside the request (up to 4 bytes a character, in practice far fewer).</summary>
    public const int MaxPutImageBytes = 16 * 1024 * 1024;

    /// <summary>
    /// ECR Public's <c>CreateRepository</c> and <c>PutRepositoryCatalogData</c>: a 512,000-byte logo (683 KB of
    /// base64) beside about and usage texts of 25,600 characters each, a description and 50 tags, which
    /// botocore writes <c>\u</c>-escaped (6 bytes a character) when they are not ASCII: past 1 MiB at the most.
    /// </summary>
    public const int MaxCatalogBytes = 2 * 1024 * 1024;

    /// <summary>How many bodies past <see cref="MaxUnauthenticatedBytes"/> may be held at once (at most 8 × 32 MiB).</summary>
    public const int LargeBodySlots = 8;

    // A body past the small cap is read only once the request names an active key (or a live session)
    // and a slot is free; the slot is held until the response ends, so large bodies in memory stay bounded
    // whoever sends them. A caller waits for a slot as long as it is willing to (its request's abort).
    private readonly SemaphoreSlim largeBodies = new(LargeBodySlots, LargeBodySlots);

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public void Dispose() => largeBodies.Dispose();

    public async Task HandleAsync(HttpContext context)
    {
        var record = Hosting.RequestRecord.Of(context);
        context.Response.Headers["x-amzn-RequestId"] = record?.RequestId ?? Guid.NewGuid().ToString();
        try
        {
            var target = context.Request.Headers["X-Amz-Target"].ToString();
            var (service, operation) = Resolve(target);
            var model = service.Model;
            if (record is not null)
            {
                record.Surface = model.SigningName;
                record.EventSource = model.EventSource;
                record.Operation = operation.Name;
            }

            CheckContentType(context.Request.ContentType);
            var body = await ReadBodyAsync(context, operation.Name);
            var identity = await identities.ResolveAsync(context, body, context.RequestAborted);
            identity.RequireService(model.SigningName);
            if (record is not null)
            {
                record.Caller = identity.Caller;
                record.Region = identity.Region;
            }

            limits.Throttle(context, identity.Caller, service.Classify(operation.Name));
            using var document = Parse(body);
            if (record is not null && audit.Enabled)
            {
                record.RequestParameters = Audit.AuditParameters.FromJson(document.RootElement);
            }

            service.CheckInput(operation.Name, document.RootElement);
            ModelValidator.ThrowIfInvalid(model, operation, document.RootElement);

            var result = await service.InvokeAsync(new EcrCall(context, operation.Name, document.RootElement, identity));
            var bytes = JsonSerializer.SerializeToUtf8Bytes(result, Errors.ServerJsonContext.Default.JsonObject);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = AwsErrorWriter.ContentType;
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        }
        catch (Exception e)
        {
            await AwsErrorWriter.HandleAsync(context, e, logger);
        }
    }

    private (IAwsJsonService Service, OperationModel Operation) Resolve(string target)
    {
        if (target.Length == 0)
        {
            throw new WharfException(WharfErrorCode.UnknownOperation, "The request has no X-Amz-Target header naming the operation.");
        }

        var dot = target.LastIndexOf('.');
        if (dot <= 0 || !byPrefix.TryGetValue(target[..dot], out var service)
            || !service.Model.TryGetOperation(target[(dot + 1)..], out var operation))
        {
            throw new WharfException(WharfErrorCode.UnknownOperation, $"The operation '{target}' is not known to this service.");
        }

        return (service, operation);
    }

    private static void CheckContentType(string? contentType)
    {
        var mediaType = contentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, AwsErrorWriter.ContentType, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new WharfException(WharfErrorCode.Serialization, $"The request's Content-Type must be {AwsErrorWriter.ContentType}, not '{contentType}'.");
        }
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context, string operation)
    {
        // By operation name: ECR and ECR Public share these (ECR's CreateRepository, small, gets the catalog's cap unneeded).
        var cap = operation switch
        {
            "UploadLayerPart" => MaxBodyBytes,
            "PutImage" => MaxPutImageBytes,
            "CreateRepository" or "PutRepositoryCatalogData" => MaxCatalogBytes,
            _ => MaxUnauthenticatedBytes,
        };
        if (cap == MaxUnauthenticatedBytes || context.Request.ContentLength <= MaxUnauthenticatedBytes)
        {
            return await RequestBodies.ReadAsync(context, MaxUnauthenticatedBytes, context.RequestAborted) ?? throw TooLarge(context, cap);
        }

        if (context.Request.ContentLength > cap)
        {
            throw TooLarge(context, cap);
        }

        // A large (or chunked) body of an operation that may carry one: check who claims to send it first.
        await identities.PrecheckAsync(context, context.RequestAborted);
        await largeBodies.WaitAsync(context.RequestAborted);
        context.Response.RegisterForDispose(new Slot(largeBodies));
        return await RequestBodies.ReadAsync(context, cap, context.RequestAborted) ?? throw TooLarge(context, cap);
    }

    private static WharfException TooLarge(HttpContext context, int cap) =>
        new(WharfErrorCode.RequestTooLarge, context.Request.ContentLength is { } declared
            ? $"The request body is {declared} bytes; the limit is {cap}."
            : $"The request body is larger than the limit of {cap} bytes.");

    private sealed class Slot(SemaphoreSlim semaphore) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            var document = JsonDocument.Parse(body.IsEmpty ? "{}"u8.ToArray() : body, ParseOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new WharfException(WharfErrorCode.Serialization, "The request body must be a JSON object.");
            }

            return document;
        }
        catch (JsonException e)
        {
            throw new WharfException(WharfErrorCode.Serialization, $"The request body is not valid JSON: {e.Message}");
        }
    }
}

/// <summary>Writes an operation's result members (the AWS JSON protocol's output is the object itself).</summary>
internal static class Json
{
    /// <summary>AWS JSON timestamps are epoch seconds.</summary>
    public static JsonNode Time(DateTimeOffset time) => JsonValue.Create(time.ToUnixTimeMilliseconds() / 1000.0);

    public static JsonArray Array<T>(IEnumerable<T> items, Func<T, JsonNode?> map) => new(items.Select(map).ToArray());
}
