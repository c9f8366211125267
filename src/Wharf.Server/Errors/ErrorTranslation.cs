using System.Diagnostics.CodeAnalysis;
using Wharf.Core.Errors;
using Wharf.Core.Storage;

namespace Wharf.Server.Errors;

/// <summary>
/// What an exception tells the client, before any wire shape: its catalogue row and message, with the
/// detail and headers its thrower gave. <see cref="Fault"/> is set when the exception was not an
/// expected failure; the writer logs it, where it knows what the request was.
/// </summary>
internal sealed record ErrorAnswer(ErrorDescriptor Row, string Message)
{
    public object? Detail { get; init; }

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public Exception? Fault { get; init; }
}

/// <summary>
/// The one mapping from an exception to a catalogue row, shared by the OCI, AWS JSON and Query API
/// writers, so that the same failure is the same row on every surface and each writer only formats its
/// wire shape (distribution <c>registry/handlers/handler.go</c>'s single error path is the model).
/// </summary>
internal static partial class ErrorTranslation
{
    /// <summary>What a client is told of a fault: the log has the rest, the client nothing it could use.</summary>
    public const string FaultMessage = "An internal error occurred; the server log has the details.";

    /// <summary>
    /// The answer to <paramref name="exception"/>, or null when there is no one to answer: the client
    /// went away (cancellation, a reset connection), which is neither an error nor worth a log line.
    /// </summary>
    public static ErrorAnswer? From(HttpContext context, Exception exception, ILogger logger)
    {
        var answer = Translate(context, exception, logger);
        if (answer is not null && Hosting.RequestRecord.Of(context) is { } record)
        {
            record.Error = (answer.Row, answer.Message);
        }

        return answer;
    }

    private static ErrorAnswer? Translate(HttpContext context, Exception exception, ILogger logger)
    {
        var aborted = context.RequestAborted.IsCancellationRequested;
        switch (exception)
        {
            case WharfException wharf when IsKeyServiceError(wharf.Code) && !context.Request.Headers["X-Amz-Target"].ToString().StartsWith("TrentService.", StringComparison.Ordinal):
                // A KMS error met while serving ECR or /v2 (a repository's key, by the data key it seals or opens
                // content with) is ECR's KmsException naming KMS's error; only the key service answers it as KMS.
                return new ErrorAnswer(ErrorCatalogue.Describe(WharfErrorCode.KmsException), $"KMS error ({ErrorCatalogue.Describe(wharf.Code).AwsType}): {wharf.Message}")
                {
                    Detail = new System.Text.Json.Nodes.JsonObject { ["kmsError"] = ErrorCatalogue.Describe(wharf.Code).AwsType },
                };
            case WharfException wharf when wharf.Code != WharfErrorCode.Internal:
                return new ErrorAnswer(ErrorCatalogue.Describe(wharf.Code), wharf.Message) { Detail = wharf.Detail, Headers = wharf.Headers };
            case OperationCanceledException when aborted:
                return null;
            case var _ when !aborted && Unavailable(exception) is { } unavailable:
                // The blob store being down is a condition, not a bug: one warning line (the store's
                // reason names no secret), no stack, and an answer clients retry.
                LogBlobStoreUnavailable(logger, context.Request.Method, context.Request.Path, unavailable.Message);
                return new ErrorAnswer(ErrorCatalogue.Describe(WharfErrorCode.Unavailable), $"The blob store is unavailable ({unavailable.Message}); retry later.")
                {
                    Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
                };
            case var _ when !aborted && RequestBodyFailure.Matches(context, exception, logger, out var status, out var reason):
                var code = status == StatusCodes.Status413PayloadTooLarge ? WharfErrorCode.RequestTooLarge : WharfErrorCode.RequestBodyUnreadable;
                return new ErrorAnswer(ErrorCatalogue.Describe(code), $"The request body could not be read: {reason}");

            // Kestrel's ConnectionResetException is an IOException.
            case IOException when aborted:
                return null;
            default:
                return new ErrorAnswer(ErrorCatalogue.Describe(WharfErrorCode.Internal), FaultMessage) { Fault = exception };
        }
    }

    /// <summary>The key service's own errors, which ECR and /v2 answer as ECR's <c>KmsException</c> naming them.</summary>
    internal static bool IsKeyServiceError(WharfErrorCode code) =>
        code is WharfErrorCode.KmsNotFound or WharfErrorCode.KmsDisabled or WharfErrorCode.KmsInvalidState
            or WharfErrorCode.KmsInvalidCiphertext or WharfErrorCode.KmsIncorrectKey or WharfErrorCode.KmsInvalidKeyUsage;

    private static BlobStoreUnavailableException? Unavailable(Exception exception)
    {
        // The store's exception may arrive wrapped, e.g. by a stream read inside a copy.
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BlobStoreUnavailableException unavailable)
            {
                return unavailable;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.BlobStoreUnavailable, Level = LogLevel.Warning, Message = "Blob store unavailable on {Method} {Path}: {Reason}")]
    private static partial void LogBlobStoreUnavailable(ILogger logger, string method, PathString path, string reason);

    /// <summary>
    /// True when <paramref name="answer"/> can still be written. Once the response has started its status
    /// is gone, so the only honest signal of a mid-stream failure is a broken connection.
    /// </summary>
    public static bool CanWrite(HttpContext context, [NotNullWhen(true)] ErrorAnswer? answer)
    {
        if (answer is null)
        {
            return false;
        }

        if (context.Response.HasStarted)
        {
            context.Abort();
            return false;
        }

        return true;
    }
}
