using Wharf.Core.Storage;

namespace Wharf.Server.Hosting;

/// <summary>A blob read's bytes into a response whose status and headers are set (the sendfile path aside).</summary>
internal static class BlobBody
{
    /// <summary>
    /// Writes <paramref name="content"/> to its end as <paramref name="response"/>'s body. A read that can write into
    /// the response's own memory does (<see cref="IBodyWriterSource"/>: a sealed blob decrypted in place, flushed per
    /// segment); any other is copied with the next read overlapping the last write (<see cref="OverlappedCopy"/>).
    /// <paramref name="sent"/> is told each piece's size once it is written.
    /// </summary>
    public static async Task CopyAsync(Stream content, HttpResponse response, Action<int>? sent, CancellationToken cancellationToken)
    {
        if (content is IBodyWriterSource source)
        {
            var writer = response.BodyWriter;
            await source.WriteToAsync(
                writer,
                async (count, token) =>
                {
                    var flushed = await writer.FlushAsync(token);
                    sent?.Invoke(count);
                    return !flushed.IsCompleted && !flushed.IsCanceled;
                },
                cancellationToken);
            return;
        }

        await OverlappedCopy.CopyAsync(content, response.Body, sent, cancellationToken);
    }
}
