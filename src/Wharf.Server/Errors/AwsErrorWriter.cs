using System.Text.Json.Nodes;
using Wharf.Core.Errors;

namespace Wharf.Server.Errors;

/// <summary>
/// The AWS JSON API's one error handler: a <see cref="WharfException"/> becomes
/// <c>{"__type","message"}</c> (plus the members a modeled exception carries, given as a
/// <see cref="JsonObject"/> detail) with the catalogue's AWS status; anything else is logged and
/// becomes a 500 <c>ServerException</c>. The request id header is set before the handler runs.
/// </summary>
internal static partial class AwsErrorWriter
{
    public const string ContentType = "application/x-amz-json-1.1";

    public static async Task HandleAsync(HttpContext context, Exception exception, ILogger logger)
    {
        var error = Translate(context, exception, logger);
        if (error is null)
        {
            return;
        }

        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        await WriteAsync(context, error);
    }

    public static Task WriteAsync(HttpContext context, WharfException error)
    {
        var row = ErrorCatalogue.Describe(error.Code);
        var body = new JsonObject { ["__type"] = row.AwsType, ["message"] = error.Message };
        if (error.Detail is JsonObject members)
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
        response.StatusCode = row.AwsStatus;
        response.ContentType = ContentType;
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static WharfException? Translate(HttpContext context, Exception exception, ILogger logger)
    {
        switch (exception)
        {
            case WharfException wharf when wharf.Code != WharfErrorCode.Internal:
                return wharf;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return null;
            case var _ when !context.RequestAborted.IsCancellationRequested && RequestBodyFailure.Matches(context, exception, logger, out var status, out var reason):
                return status == StatusCodes.Status413PayloadTooLarge
                    ? new WharfException(WharfErrorCode.RequestTooLarge)
                    : new WharfException(WharfErrorCode.Serialization, $"The request body could not be read: {reason}");
            case Microsoft.AspNetCore.Connections.ConnectionResetException or IOException when context.RequestAborted.IsCancellationRequested:
                return null;
            default:
                LogUnhandled(logger, context.Request.Headers["X-Amz-Target"].ToString(), exception);
                return new WharfException(WharfErrorCode.Internal, "An internal error occurred; the server log has the details.");
        }
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.UnhandledApiError, Level = LogLevel.Error, Message = "Unhandled error in API call {Target}")]
    private static partial void LogUnhandled(ILogger logger, string target, Exception exception);
}
