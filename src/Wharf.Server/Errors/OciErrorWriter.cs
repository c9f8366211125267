using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;

namespace Wharf.Server.Errors;

/// <summary>
/// The data plane's one error handler: a <see cref="WharfException"/> becomes
/// <c>{"errors":[{"code","message","detail"}]}</c> with the catalogue's status and the exception's
/// headers; anything else is logged and becomes a bare 500 <c>UNKNOWN</c>.
/// </summary>
internal static partial class OciErrorWriter
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static async Task HandleAsync(HttpContext context, Exception exception, ILogger logger)
    {
        var error = Translate(context, exception, logger);
        if (error is null)
        {
            return;
        }

        if (context.Response.HasStarted)
        {
            // Mid-stream failure: the status is gone, so the only honest signal is a broken connection.
            context.Abort();
            return;
        }

        await WriteAsync(context, error);
    }

    public static Task WriteAsync(HttpContext context, WharfException error)
    {
        var row = ErrorCatalogue.Describe(error.Code);
        var response = context.Response;
        response.Clear();
        response.StatusCode = row.OciStatus;
        response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        if (error.Headers is not null)
        {
            foreach (var (name, value) in error.Headers)
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
            new ErrorBody([new ErrorEntry(row.OciCode, error.Message, error.Detail)]),
            JsonOptions);
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
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
                // Kestrel's own body checks: the request ended before its Content-Length, or framing was broken.
                return status == StatusCodes.Status413PayloadTooLarge
                    ? new WharfException(WharfErrorCode.ManifestTooLarge)
                    : new WharfException(WharfErrorCode.SizeInvalid, $"request body invalid: {reason}");
            case Microsoft.AspNetCore.Connections.ConnectionResetException or IOException when context.RequestAborted.IsCancellationRequested:
                return null;
            default:
                LogUnhandled(logger, context.Request.Method, context.Request.Path, exception);
                return new WharfException(WharfErrorCode.Internal);
        }
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.UnhandledRequestError, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, PathString path, Exception exception);
}

internal sealed record ErrorEntry(string Code, string Message, object? Detail);

internal sealed record ErrorBody(IReadOnlyList<ErrorEntry> Errors);
