using System.Text;
using System.Xml.Linq;

namespace Wharf.Server.Errors;

/// <summary>
/// The IAM and STS Query APIs' one error handler: the answer <see cref="ErrorTranslation"/> gives
/// becomes <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type/&gt;&lt;Code/&gt;&lt;Message/&gt;</c> in the
/// service's namespace, with the catalogue's Query code and status; a fault is logged and becomes a
/// 500 <c>ServiceFailure</c>. The request id header is set before the handler runs.
/// </summary>
internal static partial class QueryErrorWriter
{
    public static Task HandleAsync(HttpContext context, Exception exception, XNamespace ns, string requestId, ILogger logger)
    {
        var answer = ErrorTranslation.From(context, exception, logger);
        if (answer?.Fault is { } fault)
        {
            LogUnhandled(logger, fault);
        }

        return ErrorTranslation.CanWrite(context, answer) ? WriteAsync(context, answer, ns, requestId) : Task.CompletedTask;
    }

    /// <summary>Writes a Query API document, a result or an error, as AWS does: unindented <c>text/xml</c>.</summary>
    public static Task WriteDocumentAsync(HttpContext context, XElement document, int status)
    {
        var bytes = Encoding.UTF8.GetBytes(document.ToString(SaveOptions.DisableFormatting));
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static Task WriteAsync(HttpContext context, ErrorAnswer answer, XNamespace ns, string requestId)
    {
        var status = answer.Row.QueryStatus;
        var error = new XElement(
            ns + "Error",
            new XElement(ns + "Type", status >= 500 ? "Receiver" : "Sender"),
            new XElement(ns + "Code", answer.Row.QueryCode),
            new XElement(ns + "Message", XmlText.Clean(answer.Message)));
        return WriteDocumentAsync(context, new XElement(ns + "ErrorResponse", error, new XElement(ns + "RequestId", requestId)), status);
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.UnhandledQueryError, Level = LogLevel.Error, Message = "Unhandled error in a Query API call")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
