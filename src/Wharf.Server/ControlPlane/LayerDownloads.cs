using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;
using Wharf.Server.Errors;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// <c>GetDownloadUrlForLayer</c>'s URLs: like an S3 presigned URL, <c>/layers/&lt;token&gt;</c> on Wharf
/// itself serves one layer of one repository to whoever holds it, until it expires. The token is the
/// repository, digest and expiry, MAC'd with a server-wide key, so any node can serve it.
/// </summary>
internal sealed class LayerDownloads(ServerKeys keys, LayerService layers, TimeProvider time, ILogger<LayerDownloads> logger)
{
    /// <summary>How long a URL stays valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public const string PathPrefix = "/layers/";

    public async Task<string> CreateUrlAsync(HttpContext context, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        var expires = (time.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
        var payload = Encoding.UTF8.GetBytes(string.Join('\n', key.Registry.Account.Value, key.Registry.Region, key.Name.Value, digest.ToString(), expires.ToString(CultureInfo.InvariantCulture)));
        var mac = HMACSHA256.HashData(await keys.GetAsync(ServerKeys.DownloadUrls, cancellationToken), payload);
        var request = context.Request;
        return $"{request.Scheme}://{request.Host}{PathPrefix}{Base64Url.EncodeToString(payload)}.{Base64Url.EncodeToString(mac)}";
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
            await read.Content.CopyToAsync(response.Body, context.RequestAborted);
        }
        catch (Exception e)
        {
            await OciErrorWriter.HandleAsync(context, e, logger);
        }
    }

    private async Task<(RepositoryKey Key, Digest Digest)> OpenAsync(string token, CancellationToken cancellationToken)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        byte[] payload;
        byte[] mac;
        try
        {
            payload = dot > 0 ? Base64Url.DecodeFromChars(token.AsSpan(0, dot)) : throw Denied("The download URL is malformed.");
            mac = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            throw Denied("The download URL is malformed.");
        }

        var expected = HMACSHA256.HashData(await keys.GetAsync(ServerKeys.DownloadUrls, cancellationToken), payload);
        if (!CryptographicOperations.FixedTimeEquals(mac, expected))
        {
            throw Denied("The download URL's signature does not match.");
        }

        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts.Length != 5 || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            throw Denied("The download URL is malformed.");
        }

        if (time.GetUtcNow().ToUnixTimeSeconds() >= expires)
        {
            throw Denied("The download URL has expired; call GetDownloadUrlForLayer again.");
        }

        return (new RepositoryKey(new RegistryKey(AccountId.Parse(parts[0]), parts[1]), RepositoryName.Parse(parts[2])), Digest.Parse(parts[3]));
    }

    private static WharfException Denied(string message) => new(WharfErrorCode.Denied, message);
}
