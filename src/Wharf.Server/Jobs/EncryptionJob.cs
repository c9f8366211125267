using Microsoft.Extensions.Options;
using Wharf.Core.Encryption;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>
/// Encrypts an existing install in the background (<see cref="EncryptionMigrator"/>), under its lease so one node does
/// it: at start and then on <c>Gc:Interval</c>, plaintext blobs are sealed, and their plaintext deleted once it has been
/// sealed for <c>Gc:GraceWindow</c> (a later run). Once a run finds no plaintext left the job has nothing more to do in
/// this process: with sealing on, every new blob is sealed as it is written.
/// </summary>
internal sealed partial class EncryptionJob(EncryptionMigrator migrator, IOptions<WharfOptions> options, ILogger<EncryptionJob> logger) : IBackgroundJob
{
    public const string JobName = "encrypt";

    private volatile bool done;

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Gc.Interval;

    // An install upgraded to sealing starts encrypting at once, not an interval later.
    public bool RunsAtStart => true;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        if (done)
        {
            return string.Empty;
        }

        var report = await migrator.RunOnceAsync(options.Value.Gc.GraceWindow, wait: false, null, line => LogNotSealed(logger, line), cancellationToken);
        done = report.Disabled || report.PlaintextBlobs == 0;
        if (report.PlaintextBlobs == 0 || report.Disabled)
        {
            return string.Empty;
        }

        LogProgress(logger, report.PlaintextBlobs, report.PlaintextDeleted, report.Failed);
        return EncryptionMigrator.Describe(report);
    }

    [LoggerMessage(EventId = WharfEventId.EncryptionBlobNotSealed, Level = LogLevel.Warning, Message = "Encrypting the install: {Problem}")]
    private static partial void LogNotSealed(ILogger logger, string problem);

    [LoggerMessage(
        EventId = WharfEventId.EncryptionProgress,
        Level = LogLevel.Information,
        Message = "Encrypting the install: {Plaintext} plaintext blobs found this run, {Deleted} deleted after their grace period, {Failed} could not be sealed")]
    private static partial void LogProgress(ILogger logger, long plaintext, long deleted, long failed);
}
