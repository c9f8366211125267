using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Audit;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Audit;

/// <summary>
/// Appends what <see cref="AuditRecorder"/> queued to the metadata store in batches (as <c>PullTimeFlusher</c>
/// writes pull times), then to <c>Audit:File</c>. A batch is what is queued when the writer wakes, up to
/// <see cref="MaxBatch"/>; after a write the writer waits <see cref="WriteInterval"/> before the next, so the first
/// call after a quiet spell is written at once and a stream of calls in one transaction per interval.
/// On a clean shutdown, after the server has stopped taking requests, everything queued is written.
/// </summary>
internal sealed partial class AuditWriter(AuditRecorder recorder, IMetadataStore store, AuditFile file, TimeProvider time, ILogger<AuditWriter> logger)
    : BackgroundService
{
    public const int MaxBatch = 500;

    /// <summary>
    /// The least time between two writes. Each write is a transaction whose commit waits for the disk (a WAL flush on
    /// PostgreSQL), and written per call it was one more commit beside every push: a sequential PUT manifest's own
    /// commit queued behind it, and each write cost its round trips and thread wake-ups (bench/RESULTS.md, "PostgreSQL
    /// PUT and small requests, session 36"). A record waits in memory at most this long more, which a crash already
    /// loses whatever the interval (docs/operations.md, "Audit trail").
    /// </summary>
    public static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await recorder.Reader.WaitToReadAsync(stoppingToken))
            {
                // Not stoppingToken: a batch being written when shutdown begins is finished, not abandoned.
                await WriteQueuedAsync(retryUntil: stoppingToken, CancellationToken.None);

                // What ends meanwhile is written together with the next wake-up (on shutdown, by StopAsync).
                await Task.Delay(WriteInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        recorder.Complete();
        await WriteQueuedAsync(retryUntil: cancellationToken, cancellationToken);
        await file.DisposeAsync();
    }

    /// <summary>Writes every queued record, batch by batch; a failing store is retried until <paramref name="retryUntil"/> is cancelled.</summary>
    private async Task WriteQueuedAsync(CancellationToken retryUntil, CancellationToken cancellationToken)
    {
        var batch = new List<AuditEvent>(MaxBatch);
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && recorder.Reader.TryRead(out var entry))
            {
                try
                {
                    batch.Add(AuditEventFactory.Create(entry));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogWriteFailed(logger, 1, e); // one malformed record must not cost the batch
                }
            }

            if (recorder.TakeDropped() is > 0 and var dropped)
            {
                LogDropped(logger, dropped);
            }

            if (batch.Count == 0)
            {
                return;
            }

            await AppendAsync(batch, retryUntil, cancellationToken);
            await file.AppendAsync(batch, cancellationToken);
        }
    }

    private async Task AppendAsync(List<AuditEvent> batch, CancellationToken retryUntil, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await store.Audit.AppendAsync(batch, cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (retryUntil.IsCancellationRequested)
                {
                    LogWriteFailed(logger, batch.Count, e);
                    return;
                }

                LogRetrying(logger, batch.Count, delay, e);
                try
                {
                    await Task.Delay(delay, time, retryUntil);
                }
                catch (OperationCanceledException)
                {
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    [LoggerMessage(EventId = WharfEventId.AuditDropped, Level = LogLevel.Warning, Message = "{Count} audit records were dropped: the audit queue (Audit:QueueCapacity) was full or the server was stopping")]
    private static partial void LogDropped(ILogger logger, long count);

    [LoggerMessage(EventId = WharfEventId.AuditWriteFailed, Level = LogLevel.Error, Message = "{Count} audit records could not be written and are lost")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = WharfEventId.AuditRetrying, Level = LogLevel.Warning, Message = "Could not write {Count} audit records; retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, int count, TimeSpan delay, Exception exception);
}

/// <summary>
/// <c>Audit:File</c>: every record appended as one line of CloudTrail's JSON, for a SIEM to tail. Opened for
/// append on first use (other processes may read it meanwhile), flushed after each batch. A failure is logged
/// and the file retried at the next batch; the store keeps the record either way.
/// </summary>
internal sealed partial class AuditFile(IOptions<WharfOptions> options, ILogger<AuditFile> logger) : IAsyncDisposable
{
    private FileStream? stream;

    public async Task AppendAsync(IReadOnlyList<AuditEvent> batch, CancellationToken cancellationToken)
    {
        if (options.Value.Audit.File is not { Length: > 0 } path)
        {
            return;
        }

        try
        {
            stream ??= new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.Read,
                Options = FileOptions.Asynchronous,
            });
            var text = new StringBuilder();
            foreach (var e in batch)
            {
                text.Append(e.Document).Append('\n');
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogFailed(logger, batch.Count, path, e);
            if (stream is not null)
            {
                await stream.DisposeAsync();
                stream = null;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (stream is not null)
        {
            await stream.DisposeAsync();
            stream = null;
        }
    }

    [LoggerMessage(EventId = WharfEventId.AuditFileFailed, Level = LogLevel.Warning, Message = "Could not append {Count} audit records to {Path}; they are in the metadata store")]
    private static partial void LogFailed(ILogger logger, int count, string path, Exception exception);
}
