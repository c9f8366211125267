using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Errors;
using Wharf.Server.Identity;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// <c>POST /</c> with <c>X-Amz-Target</c>: the AWS JSON 1.1 protocol. Checks the target, content type
/// and body; resolves the caller and region; validates the input against the botocore service model;
/// dispatches to the operation; writes the result or AWS's error shape, always with <c>x-amzn-RequestId</c>.
/// </summary>
internal sealed class AwsJsonHandler(IApiIdentityResolver identities, EcrOperations ecr, Hosting.RequestLimits limits, ILogger<AwsJsonHandler> logger)
{
    /// <summary>The largest body accepted: an <c>UploadLayerPart</c> of 20 MiB is about 27 MiB of base64.</summary>
    public const int MaxBodyBytes = 32 * 1024 * 1024;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public async Task HandleAsync(HttpContext context)
    {
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        try
        {
            var target = context.Request.Headers["X-Amz-Target"].ToString();
            var (model, operation) = Resolve(target);
            CheckContentType(context.Request.ContentType);
            var body = await ReadBodyAsync(context);
            var identity = await identities.ResolveAsync(context, body, context.RequestAborted);
            identity.RequireService("ecr");
            limits.Throttle(context, identity.Caller, Hosting.RequestLimits.ForEcr(operation.Name));
            using var document = Parse(body);
            var failure = ModelValidator.Validate(model, operation, document.RootElement);
            if (failure is not null)
            {
                throw failure.Kind == ValidationFailureKind.Type
                    ? new WharfException(WharfErrorCode.Serialization, failure.Message)
                    : new WharfException(operation.HasError("InvalidParameterException") ? WharfErrorCode.InvalidParameter : WharfErrorCode.Validation, failure.Message);
            }

            var result = await ecr.InvokeAsync(new EcrCall(context, operation.Name, document.RootElement, identity));
            var bytes = JsonSerializer.SerializeToUtf8Bytes(result);
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

    private static (ServiceModel Model, OperationModel Operation) Resolve(string target)
    {
        if (target.Length == 0)
        {
            throw new WharfException(WharfErrorCode.UnknownOperation, "The request has no X-Amz-Target header naming the operation.");
        }

        var dot = target.LastIndexOf('.');
        var model = ServiceModel.Ecr;
        if (dot <= 0 || !string.Equals(target[..dot], model.TargetPrefix, StringComparison.Ordinal)
            || !model.TryGetOperation(target[(dot + 1)..], out var operation))
        {
            throw new WharfException(WharfErrorCode.UnknownOperation, $"The operation '{target}' is not known to this service.");
        }

        return (model, operation);
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

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        var declared = context.Request.ContentLength;
        if (declared > MaxBodyBytes)
        {
            throw new WharfException(WharfErrorCode.RequestTooLarge, $"The request body is {declared} bytes; the limit is {MaxBodyBytes}.");
        }

        using var buffer = new MemoryStream((int)(declared ?? 4096));
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
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
