using Microsoft.AspNetCore.Http.Features;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// Reads an API request's body into memory without ever holding more than a cap: Kestrel is told the
/// cap (so a declared or chunked body past it ends the read and the connection), and the body is read
/// in a bounded loop into a buffer that grows only as bytes arrive and never past the cap. A caller
/// can make the server hold at most the cap (+1 byte) per request, whatever it sends.
/// </summary>
internal static class RequestBodies
{
    private const int FirstBuffer = 16 * 1024;

    /// <summary>
    /// The body, or null when it is (or declares itself) longer than <paramref name="cap"/>; in that
    /// case at most <paramref name="cap"/> + 1 bytes were read.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(HttpContext context, int cap, CancellationToken cancellationToken)
    {
        Limit(context, cap);
        var declared = context.Request.ContentLength;
        if (declared > cap)
        {
            return null;
        }

        // Sized by Content-Length when declared (exactly, +1 to see a body longer than declared), else
        // grown by doubling as bytes arrive; never past cap + 1.
        var buffer = new byte[(int)Math.Min((declared ?? FirstBuffer) + 1, cap + 1L)];
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > cap)
                    {
                        return null;
                    }

                    var bigger = new byte[(int)Math.Min(length * 2L, cap + 1L)];
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    buffer = bigger;
                }

                var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return length > cap ? null : new ReadOnlyMemory<byte>(buffer, 0, length);
                }

                length += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own stop at the limit: the same answer as ours.
            return null;
        }
    }

    /// <summary>Raises Kestrel's limit for this request to <paramref name="cap"/> (+1, so that our own check answers first).</summary>
    public static void Limit(HttpContext context, long cap)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = cap + 1;
        }
    }
}
