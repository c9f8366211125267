using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;

namespace Wharf.Server.DataPlane;

internal sealed partial class DataPlaneHandler
{
    private async Task HeadBlobAsync(DataPlaneRequest r)
    {
        var digest = r.Route.DigestArgument();
        var size = await pullThroughBlobs.StatAsync(r.Identity.Caller, r.Repository, digest, r.Aborted);
        var response = r.Context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        BlobHeaders(response, digest);
        response.ContentLength = size;
    }

    private async Task GetBlobAsync(DataPlaneRequest r)
    {
        var digest = r.Route.DigestArgument();
        await r.Scope.BeforeBlobAsync(r.Context, r.Identity.Caller, r.Aborted);

        // As ECR sends layer downloads to S3: the bytes go from the bucket to the client, the node only
        // authorises. A range travels with the redirected request; HEAD is still answered here.
        if (options.Value.Storage.DownloadRedirectLifetime is { } lifetime
            && await pullThroughBlobs.GetDownloadUrlAsync(r.Identity.Caller, r.Repository, digest, lifetime, r.Aborted) is { } url)
        {
            if (r.Scope.CountsBlobBytes)
            {
                // The bytes leave from the bucket, not from here: counted as the whole blob.
                r.Scope.BlobSent(r.Context, r.Identity.Caller, await pullThroughBlobs.StatAsync(r.Identity.Caller, r.Repository, digest, r.Aborted));
            }

            var redirect = r.Context.Response;
            redirect.StatusCode = StatusCodes.Status307TemporaryRedirect;
            redirect.Headers.Location = url.AbsoluteUri;
            redirect.Headers["Docker-Content-Digest"] = digest.ToString();
            redirect.ContentLength = 0;
            return;
        }

        ByteRange? range = ByteRange.TryParse(r.Context.Request.Headers.Range, out var parsed) ? parsed : null;
        await using var read = await pullThroughBlobs.OpenAsync(r.Identity.Caller, r.Repository, digest, range, r.Aborted);
        var response = r.Context.Response;
        BlobHeaders(response, digest);
        if (read.IsPartial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {read.Offset}-{read.Offset + read.Length - 1}/{read.Size}";
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
        }

        response.ContentLength = read.Length;
        r.Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // A plaintext blob on a plaintext HTTP/1.1 connection: from the page cache to the socket (sendfile).
        if (read.Length >= SendfileConnection.MinimumLength && read.Content is IFileRegion file && SendfileConnection.Of(r.Context) is { } sendfile)
        {
            if (r.Scope.CountsBlobBytes)
            {
                // Counted before it is sent: a client gone part-way is counted the whole range, never less.
                r.Scope.BlobSent(r.Context, r.Identity.Caller, read.Length);
            }

            await sendfile.SendAsync(response, file, r.Aborted);
            return;
        }

        if (!r.Scope.CountsBlobBytes)
        {
            await BlobBody.CopyAsync(read.Content, response, null, r.Aborted);
            return;
        }

        // Counted as sent, also when the client goes away part-way.
        long sent = 0;
        try
        {
            await BlobBody.CopyAsync(read.Content, response, n => sent += n, r.Aborted);
        }
        finally
        {
            r.Scope.BlobSent(r.Context, r.Identity.Caller, sent);
        }
    }

    private async Task DeleteBlobAsync(DataPlaneRequest r)
    {
        var digest = r.Route.DigestArgument();
        await blobs.DeleteAsync(r.Identity.Caller, r.Repository, digest, r.Aborted);
        r.Context.Response.StatusCode = StatusCodes.Status202Accepted;
        r.Context.Response.ContentLength = 0;
    }

    private static void BlobHeaders(HttpResponse response, Digest digest)
    {
        response.ContentType = "application/octet-stream";
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.AcceptRanges = "bytes";
    }

    private async Task StartUploadAsync(DataPlaneRequest r)
    {
        var context = r.Context;
        var caller = r.Identity.Caller;
        if (Query(context, "digest") is { } digestText)
        {
            var digest = ParseDigest(digestText);
            var body = HasBody(context) ? context.Request.Body : Stream.Null;
            await uploads.UploadMonolithicAsync(caller, r.Repository, digest, body, context.Request.ContentLength, r.Aborted);
            BlobCreated(r, digest);
            return;
        }

        if (Query(context, "mount") is { } mountText)
        {
            var digest = ParseDigest(mountText);
            if (RepositoryName.TryParse(Query(context, "from"), out var from)
                && await r.Scope.RepositoryAsync(r.Identity, from, r.Aborted) is { } source
                && await blobs.TryMountAsync(caller, r.Repository, digest, source, r.Aborted))
            {
                BlobCreated(r, digest);
                return;
            }
        }

        using var slot = await uploadLimits.AdmitAsync(context, caller, r.Repository.Registry, r.Aborted);
        var status = await uploads.StartAsync(caller, r.Repository, r.Aborted);
        slot.Opened(status.Id);
        UploadAccepted(r, status, StatusCodes.Status202Accepted);
    }

    private async Task UploadStatusAsync(DataPlaneRequest r)
    {
        var status = await uploads.GetStatusAsync(r.Identity.Caller, r.Repository, r.Route.Argument!, r.Aborted);
        UploadAccepted(r, status, StatusCodes.Status204NoContent);
    }

    private async Task PatchUploadAsync(DataPlaneRequest r)
    {
        var request = r.Context.Request;
        long? rangeStart = null;
        long? rangeLength = null;
        if (request.Headers.ContentRange.ToString() is { Length: > 0 } contentRange)
        {
            (rangeStart, rangeLength) = ParseChunkRange(contentRange);
        }

        var status = await uploads.AppendAsync(
            r.Identity.Caller, r.Repository, r.Route.Argument!, request.Body, request.ContentLength, rangeStart, rangeLength, r.Aborted);
        UploadAccepted(r, status, StatusCodes.Status202Accepted);
    }

    private async Task CompleteUploadAsync(DataPlaneRequest r)
    {
        var context = r.Context;
        var digest = ParseDigest(Query(context, "digest"));
        var body = HasBody(context) ? context.Request.Body : null;
        await uploads.CompleteAsync(r.Identity.Caller, r.Repository, r.Route.Argument!, digest, body, context.Request.ContentLength, r.Aborted);
        uploadLimits.Ended(r.Route.Argument!);
        BlobCreated(r, digest);
    }

    private async Task CancelUploadAsync(DataPlaneRequest r)
    {
        await uploads.CancelAsync(r.Identity.Caller, r.Repository, r.Route.Argument!, r.Aborted);
        uploadLimits.Ended(r.Route.Argument!);
        r.Context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static void BlobCreated(DataPlaneRequest r, Digest digest)
    {
        var response = r.Context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{r.Route.Name}/blobs/{digest}";
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.ContentLength = 0;
    }

    private static void UploadAccepted(DataPlaneRequest r, UploadStatus status, int statusCode)
    {
        var response = r.Context.Response;
        response.StatusCode = statusCode;
        foreach (var (name, value) in UploadService.UploadHeaders(r.Repository, status.Id, status.Offset))
        {
            response.Headers[name] = value;
        }

        if (statusCode != StatusCodes.Status204NoContent)
        {
            response.ContentLength = 0;
        }
    }

    private static Digest ParseDigest(string? text) =>
        Digest.TryParse(text, out var digest)
            ? digest
            : throw new WharfException(WharfErrorCode.DigestInvalid, text is null ? "the digest query parameter is required" : $"'{text}' is not a valid digest");

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;

    /// <summary><c>Content-Range</c> of a chunk: <c>start-end</c> (OCI) or <c>bytes start-end/total</c>.</summary>
    private static (long Start, long? Length) ParseChunkRange(string header)
    {
        var text = header.Trim();
        if (text.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
        {
            text = text[5..].TrimStart(' ', '=');
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            text = text[..slash];
        }

        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0
            && long.TryParse(text.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var start)
            && long.TryParse(text.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var end)
            && end >= start)
        {
            return (start, end - start + 1);
        }

        throw new WharfException(WharfErrorCode.BlobUploadInvalid, $"invalid Content-Range '{header}'");
    }
}
