using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;

namespace Wharf.Server.Errors;

/// <summary>
/// The data plane's one error handler: the answer <see cref="ErrorTranslation"/> gives becomes
/// <c>{"errors":[{"code","message","detail"}]}</c> with the catalogue's OCI status and the exception's
/// headers; a fault is logged and becomes a bare 500 <c>UNKNOWN</c>.
/// </summary>
internal static partial class OciErrorWriter
{
    private static readonly JsonTypeInfo<ErrorBody> Body =
        new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = ServerJsonContext.Default }.TypeInfo<ErrorBody>();

    public static Task HandleAsync(HttpContext context, Exception exception, ILogger logger)
    {
        var answer = ErrorTranslation.From(context, exception, logger);
        if (answer?.Fault is { } fault)
        {
            LogUnhandled(logger, context.Request.Method, context.Request.Path, fault);
        }

        return ErrorTranslation.CanWrite(context, answer) ? WriteAsync(context, answer) : Task.CompletedTask;
    }

    private static Task WriteAsync(HttpContext context, ErrorAnswer answer)
    {
        var response = context.Response;
        response.Clear();
        if (Hosting.RequestRecord.Of(context) is { } record)
        {
            response.Headers[Hosting.RequestRecords.RequestIdHeader] = record.RequestId;
        }

        response.StatusCode = answer.Row.OciStatus;
        response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        if (answer.Headers is not null)
        {
            foreach (var (name, value) in answer.Headers)
            {
                response.Headers[name] = value;
            }
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new ErrorBody([new ErrorEntry(answer.Row.OciCode, answer.Message, Detail(answer.Detail))]),
            Body);
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    // The OCI detail member: services give it as JSON; the layer-part rejection (the ECR API's) as its one member.
    private static JsonNode? Detail(object? detail) => detail switch
    {
        JsonNode node => node,
        LayerPartRejected rejected => new JsonObject { ["lastValidByteReceived"] = rejected.LastValidByteReceived },
        _ => null,
    };

    [LoggerMessage(EventId = Hosting.WharfEventId.UnhandledRequestError, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, PathString path, Exception exception);
}

internal sealed record ErrorEntry(string Code, string Message, JsonNode? Detail);

internal sealed record ErrorBody(IReadOnlyList<ErrorEntry> Errors);
