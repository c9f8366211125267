using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Core.Security;
using Wharf.Core.Uploads;
using Wharf.Server.Errors;
using Wharf.Server.Hosting;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// <c>GetDownloadUrlForLayer</c>'s URLs: like an S3 presigned URL, <c>/layers/&lt;token&gt;</c> on Wharf
/// itself serves one layer of one repository to whoever holds it, until it expires. The token is the
/// repository, digest and expiry, signed (<see cref="TokenKeyRing"/>, <see cref="TokenPurpose.Download"/>)
/// with a key every node shares, so any node can serve it.
/// </summary>
internal sealed class LayerDownloads(
    TokenKeyRing keys,
    LayerService layers,
    BlobService blobs,
    IOptions<WharfOptions> options,
    TimeProvider time,
    ILogger<LayerDownloads> logger)
{
    /// <summary>How long a URL stays valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public const string PathPrefix = "/layers/";

    /// <summary>
    /// The URL for a layer the caller may download: with <c>Storage:S3:Redirect</c> on, a presigned URL
    /// of the bucket's object (as ECR's), else Wharf's own.
    /// </summary>
    public async Task<string> CreateUrlAsync(HttpContext context, Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        if (options.Value.Storage.DownloadRedirectLifetime is { } lifetime
            && await blobs.GetDownloadUrlAsync(caller, key, digest, lifetime, cancellationToken) is { } direct)
        {
            return direct.AbsoluteUri;
        }

        var expires = (time.GetUtcNow() + Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var token = await keys.SealAsync(TokenPurpose.Download, string.Empty, [key.Registry.Account.Value, key.Registry.Region, key.Name.Value, digest.ToString(), expires], cancellationToken);
        var request = context.Request;
        return $"{request.Scheme}://{request.Host}{PathPrefix}{token}";
    }

    /// <summary>GET (and HEAD) of a download URL: the layer, with ranges; 403 once expired or when altered.</summary>
    public async Task HandleAsync(HttpContext context, string token)
    {
        try
        {
            var (key, digest) = await OpenAsync(token, context.RequestAborted);
            ByteRange? range = ByteRange.TryParse(context.Request.Headers.Range, out var parsed) ? parsed : null;
            await using var read = await layers.OpenForDownloadAsync(key, digest, range, context.RequestAborted);
            var response = context.Response;
            response.ContentType = "application/octet-stream";
            response.Headers.ETag = $"\"{digest}\"";
            response.Headers.AcceptRanges = "bytes";
            response.StatusCode = read.IsPartial ? StatusCodes.Status206PartialContent : StatusCodes.Status200OK;
            if (read.IsPartial)
            {
                response.Headers.ContentRange = $"bytes {read.Offset}-{read.Offset + read.Length - 1}/{read.Size}";
            }

            response.ContentLength = read.Length;
            if (HttpMethods.IsHead(context.Request.Method))
            {
                return;
            }

            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            if (read.Length >= SendfileConnection.MinimumLength && read.Content is IFileRegion file && SendfileConnection.Of(context) is { } sendfile)
            {
                // As a /v2 blob GET: a plaintext blob on a plaintext HTTP/1.1 connection goes out with sendfile.
                await sendfile.SendAsync(response, file, context.RequestAborted);
                return;
            }

            await BlobBody.CopyAsync(read.Content, response, null, context.RequestAborted);
        }
        catch (Exception e)
        {
            await OciErrorWriter.HandleAsync(context, e, logger);
        }
    }

    private async Task<(RepositoryKey Key, Digest Digest)> OpenAsync(string token, CancellationToken cancellationToken)
    {
        if (await keys.OpenAsync(TokenPurpose.Download, token, string.Empty, cancellationToken) is not [var account, var region, var name, var digest, var expiresText]
            || !long.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            throw Denied("The download URL is malformed, altered, or signed with a revoked key.");
        }

        if (time.GetUtcNow().ToUnixTimeSeconds() >= expires)
        {
            throw Denied("The download URL has expired; call GetDownloadUrlForLayer again.");
        }

        return (new RepositoryKey(new RegistryKey(AccountId.Parse(account), region), RepositoryName.Parse(name)), Digest.Parse(digest));
    }

    private static WharfException Denied(string message) => new(WharfErrorCode.Denied, message);
}
