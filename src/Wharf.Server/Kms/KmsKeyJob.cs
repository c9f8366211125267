using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Kms;

/// <summary>
/// The key service's schedule: keys whose pending deletion window has passed are deleted with their material (what they
/// encrypted can never be decrypted again), and keys with automatic rotation get a new material version when their
/// rotation period has passed (earlier versions keep decrypting).
/// </summary>
internal sealed partial class KmsKeyJob(IMetadataStore store, KmsService kms, TimeProvider time, ILogger<KmsKeyJob> logger) : IBackgroundJob
{
    public const string JobName = "kms-keys";

    private const int Batch = 100;

    public string Name => JobName;

    /// <summary>Deletion dates and rotation periods are whole days: checking every few minutes is prompt enough.</summary>
    public TimeSpan Interval => TimeSpan.FromMinutes(5);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var deleted = 0;
        foreach (var key in await store.Kms.ListDueForDeletionAsync(now, Batch, cancellationToken))
        {
            if (await kms.DestroyAsync(key, cancellationToken))
            {
                deleted++;
                LogDeleted(logger, key.Arn);
            }
        }

        var rotated = 0;
        foreach (var key in await store.Kms.ListDueForRotationAsync(now, Batch, cancellationToken))
        {
            await kms.RotateAsync(key, onDemand: false, cancellationToken);
            rotated++;
        }

        return deleted == 0 && rotated == 0 ? string.Empty : $"{deleted} KMS keys deleted with their material, {rotated} rotated";
    }

    [LoggerMessage(EventId = WharfEventId.KmsKeyDeleted, Level = LogLevel.Warning, Message = "KMS key {KeyArn} deleted with its key material: what it encrypted cannot be decrypted any more")]
    private static partial void LogDeleted(ILogger logger, string keyArn);
}
