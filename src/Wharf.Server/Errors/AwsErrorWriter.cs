using System.Text.Json.Nodes;
using Wharf.Core.Errors;

namespace Wharf.Server.Errors;

/// <summary>
/// The AWS JSON API's one error handler: the answer <see cref="ErrorTranslation"/> gives becomes
/// <c>{"__type","message"}</c> (plus the members a modeled exception carries, given as a
/// <see cref="JsonObject"/> detail) with the catalogue's AWS status; a fault is logged and becomes a
/// 500 <c>ServerException</c>. The request id header is set before the handler runs.
/// </summary>
internal static partial class AwsErrorWriter
{
    public const string ContentType = "application/x-amz-json-1.1";

    public static Task HandleAsync(HttpContext context, Exception exception, ILogger logger)
    {
        var answer = ErrorTranslation.From(context, exception, logger);
        if (answer?.Fault is { } fault)
        {
            LogUnhandled(logger, context.Request.Headers["X-Amz-Target"].ToString(), fault);
        }

        return ErrorTranslation.CanWrite(context, answer) ? WriteAsync(context, answer) : Task.CompletedTask;
    }

    private static Task WriteAsync(HttpContext context, ErrorAnswer answer)
    {
        var body = new JsonObject { ["__type"] = answer.Row.AwsType, ["message"] = answer.Message };
        if (answer.Detail is JsonObject members)
        {
            foreach (var (name, value) in members)
            {
                body[name] = value?.DeepClone();
            }
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(body.ToJsonString());
        var response = context.Response;
        var requestId = response.Headers["x-amzn-RequestId"];
        response.Clear();
        response.Headers["x-amzn-RequestId"] = requestId;
        response.StatusCode = answer.Row.AwsStatus;
        response.ContentType = ContentType;
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.UnhandledApiError, Level = LogLevel.Error, Message = "Unhandled error in API call {Target}")]
    private static partial void LogUnhandled(ILogger logger, string target, Exception exception);
}
