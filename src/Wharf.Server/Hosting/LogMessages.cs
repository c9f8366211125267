namespace Wharf.Server.Hosting;

/// <summary>
/// Source-generated log messages of the host, with event ids by area: 1000s hosting, 1100s data
/// plane errors (in <c>Errors/OciErrorWriter</c>), 1200s background jobs. Secrets never appear here.
/// </summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Auth mode 'open': every caller is the default account's root; for local development only.")]
    public static partial void OpenModeWarning(this ILogger logger);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Wharf listening on {Address} (metadata: {Metadata}, blobs: {Blobs})")]
    public static partial void Listening(this ILogger logger, string address, string metadata, string blobs);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Job {Job} finished in {ElapsedMs} ms: {Outcome}")]
    public static partial void JobFinished(this ILogger logger, string job, long elapsedMs, string outcome);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Error, Message = "Job {Job} failed")]
    public static partial void JobFailed(this ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Job {Job} skipped: another node holds its lease")]
    public static partial void JobLeaseHeld(this ILogger logger, string job);
}
