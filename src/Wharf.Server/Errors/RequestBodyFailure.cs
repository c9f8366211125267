namespace Wharf.Server.Errors;

/// <summary>
/// Kestrel's verdict on a request body the client broke: a body that ended before its
/// <c>Content-Length</c>, a malformed chunk, a body over the route's limit, or one arriving too slowly.
/// These are the client's fault, so every error writer answers them 400 (413 when too large) in its
/// protocol's shape and logs one line at most: a stack trace per bad request would let anyone flood the log.
/// </summary>
internal static partial class RequestBodyFailure
{
    private const string KestrelAssembly = "Microsoft.AspNetCore.Server.Kestrel.Core";

    /// <summary>
    /// True when <paramref name="exception"/> (or one it wraps) is Kestrel's body error; gives the status
    /// (400 or 413) and Kestrel's reason (which never holds request data), and logs it as one line.
    /// </summary>
    public static bool Matches(HttpContext context, Exception exception, ILogger logger, out int status, out string reason)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            int? found = e switch
            {
                BadHttpRequestException bad => bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,

                // A chunk size beyond 64 bits overflows Kestrel's parser, which reports it as a bare
                // IOException wrapping the OverflowException rather than as a BadHttpRequestException.
                IOException { InnerException: OverflowException } when string.Equals(e.Source, KestrelAssembly, StringComparison.Ordinal) => StatusCodes.Status400BadRequest,
                _ => null,
            };
            if (found is { } value)
            {
                status = value;
                reason = e.Message;
                Log(logger, context.Request.Method, context.Request.Path, reason);
                return true;
            }
        }

        status = 0;
        reason = string.Empty;
        return false;
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.BadRequestBody, Level = LogLevel.Debug, Message = "Bad request body on {Method} {Path}: {Reason}")]
    private static partial void Log(ILogger logger, string method, PathString path, string reason);
}
