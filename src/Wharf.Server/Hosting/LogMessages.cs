namespace Wharf.Server.Hosting;

/// <summary>
/// Source-generated log messages of the host; ids in <see cref="WharfEventId"/>. Secrets (connection
/// strings, keys) never appear in a message: name the backend, not how it is reached.
/// </summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = WharfEventId.OpenModeWarning, Level = LogLevel.Warning, Message = "Auth mode 'open': every caller is the default account's root; for local development only.")]
    public static partial void OpenModeWarning(this ILogger logger);

    [LoggerMessage(EventId = WharfEventId.Listening, Level = LogLevel.Information, Message = "Wharf listening on {Address} (metadata: {Metadata}, blobs: {Blobs}; {Version})")]
    public static partial void Listening(this ILogger logger, string address, string metadata, string blobs, string version);

    [LoggerMessage(EventId = WharfEventId.StartPagesReleased, Level = LogLevel.Debug, Message = "Released {MiB:0.0} MiB of the executable's pages that only the runtime's start reads: its compressed type data, at 0x{Start:x}, {Length} bytes")]
    public static partial void StartPagesReleased(this ILogger logger, double miB, nint start, long length);

    [LoggerMessage(EventId = WharfEventId.PublicListening, Level = LogLevel.Information, Message = "Public registries' address on {Address}, written {Authority} by clients")]
    public static partial void PublicListening(this ILogger logger, string address, string authority);

    [LoggerMessage(EventId = WharfEventId.NotReady, Level = LogLevel.Warning, Message = "Not ready: the {Backend} metadata store {Reason}")]
    public static partial void NotReady(this ILogger logger, string backend, string reason, Exception? exception);

    [LoggerMessage(EventId = WharfEventId.BlobStoreNotReady, Level = LogLevel.Warning, Message = "Not ready: the {Backend} blob store {Reason}")]
    public static partial void BlobStoreNotReady(this ILogger logger, string backend, string reason, Exception? exception);

    [LoggerMessage(EventId = WharfEventId.JobFinished, Level = LogLevel.Information, Message = "Job {Job} finished in {ElapsedMs} ms: {Outcome}")]
    public static partial void JobFinished(this ILogger logger, string job, long elapsedMs, string outcome);

    [LoggerMessage(EventId = WharfEventId.JobIdle, Level = LogLevel.Debug, Message = "Job {Job} found nothing to do ({ElapsedMs} ms)")]
    public static partial void JobIdle(this ILogger logger, string job, long elapsedMs);

    [LoggerMessage(EventId = WharfEventId.JobFailed, Level = LogLevel.Error, Message = "Job {Job} failed")]
    public static partial void JobFailed(this ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = WharfEventId.JobLeaseHeld, Level = LogLevel.Debug, Message = "Job {Job} skipped: another node holds its lease")]
    public static partial void JobLeaseHeld(this ILogger logger, string job);

    [LoggerMessage(EventId = WharfEventId.JobLeaseLost, Level = LogLevel.Warning, Message = "Job {Job} lost its lease (expired or taken by another node); its run is cancelled")]
    public static partial void JobLeaseLost(this ILogger logger, string job, Exception? exception);

    [LoggerMessage(EventId = WharfEventId.JobLeaseRenewalFailed, Level = LogLevel.Warning, Message = "Job {Job} could not renew its lease; will retry before it expires at {Expires}")]
    public static partial void JobLeaseRenewalFailed(this ILogger logger, string job, DateTimeOffset expires, Exception exception);

    [LoggerMessage(EventId = WharfEventId.JobRunNotRecorded, Level = LogLevel.Warning, Message = "Job {Job}: its run could not be recorded for 'wharf status'")]
    public static partial void JobRunNotRecorded(this ILogger logger, string job, Exception exception);
}
