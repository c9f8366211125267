using Wharf.Core.Metadata;
using Wharf.Core.Storage;

namespace Wharf.Core.Uploads;

/// <summary>Removes expired upload sessions and their staged bytes.</summary>
public sealed class UploadJanitor(IMetadataStore store, IBlobStore blobs, TimeProvider time)
{
    private const int Batch = 500;

    /// <summary>Returns how many sessions expired.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        var now = time.GetUtcNow();
        for (var expired = await store.Uploads.ListExpiredAsync(now, Batch, cancellationToken); expired.Count > 0; expired = await store.Uploads.ListExpiredAsync(now, Batch, cancellationToken))
        {
            foreach (var session in expired)
            {
                // The row first: once it is gone no request can append, and staging left by a crash
                // right here is an orphan that garbage collection removes.
                if (await store.Uploads.DeleteAsync(session.Id, cancellationToken))
                {
                    removed++;
                }

                await blobs.AbortUploadAsync(session.Id, cancellationToken);
            }
        }

        return removed;
    }
}
