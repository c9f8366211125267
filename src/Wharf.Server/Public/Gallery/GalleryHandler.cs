using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Storage;
using Wharf.Server.Web;

namespace Wharf.Server.Public.Gallery;

/// <summary>
/// The gallery: every request to the public address that is not /v2 or the token realm. Server-rendered
/// pages with ECR Public's gallery URLs: <c>/</c> (search: <c>?q=</c>, <c>?arch=</c>, <c>?os=</c>, <c>?after=</c>),
/// <c>/&lt;alias&gt;</c> (a registry) and <c>/&lt;alias&gt;/&lt;repository&gt;</c> (a repository), plus
/// <c>/logo/&lt;sha256&gt;</c> and the stylesheet and script under <c>/-/</c>. Only public registries are
/// read (<see cref="PublicGalleryReader"/>); everything else is a 404 page.
/// </summary>
internal sealed partial class GalleryHandler(PublicGalleryReader reader, IServiceProvider services, ILogger<GalleryHandler> logger)
{
    /// <summary>Longest search text accepted (a search is a few words; this bounds the index lookups).</summary>
    public const int MaxQueryChars = 256;

    /// <summary>Longest page cursor accepted (the store's cursors are short).</summary>
    public const int MaxCursorChars = 1024;

    public const int SearchPageSize = 20;
    public const int RegistryPageSize = 20;
    public const int TagPageSize = 25;

    /// <summary>
    /// Every gallery response's policy: nothing loads but the gallery's own stylesheet, script and logos;
    /// no inline script or style; no framing; forms post back to the gallery only.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private const string PageCache = "no-cache";
    private const string ImmutableCache = "public, max-age=31536000, immutable";

    private static readonly CompositeFormat NotFoundRepository = CompositeFormat.Parse("There is no public repository {0} here.");

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var cancellationToken = context.RequestAborted;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await PageAsync(context, StatusCodes.Status405MethodNotAllowed, GalleryPages.Error("Method not allowed", "The gallery is read with GET."));
            return;
        }

        var path = request.Path.Value ?? "/";
        try
        {
            if (path == "/")
            {
                await SearchAsync(context, cancellationToken);
            }
            else if (path.StartsWith(GalleryAssets.Prefix, StringComparison.Ordinal))
            {
                await AssetAsync(context, path);
            }
            else if (path.StartsWith("/logo/", StringComparison.Ordinal) && LogoName().IsMatch(path["/logo/".Length..]))
            {
                await LogoAsync(context, path["/logo/".Length..], cancellationToken);
            }
            else
            {
                var rest = path[1..];
                var slash = rest.IndexOf('/', StringComparison.Ordinal);
                var alias = slash < 0 ? rest : rest[..slash];
                var name = slash < 0 ? string.Empty : rest[(slash + 1)..];
                if (!IsAlias(alias))
                {
                    await NotFoundAsync(context, "There is no public registry or page at this address.");
                }
                else if (name.Length == 0)
                {
                    await RegistryAsync(context, alias, cancellationToken);
                }
                else
                {
                    await RepositoryAsync(context, alias, name, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The reader went away.
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.InvalidParameter or WharfErrorCode.PaginationInvalid)
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, GalleryPages.Error("Bad link", "This page link is not valid: " + e.Message));
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            LogFault(logger, request.Path, e);
            var unavailable = e is BlobStoreUnavailableException || e.InnerException is BlobStoreUnavailableException;
            await PageAsync(
                context,
                unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
                GalleryPages.Error("Something went wrong", "The gallery could not show this page. Try again in a moment."));
        }
    }

    private async Task SearchAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        var words = Single(query["q"]);
        var after = Single(query["after"]);
        if (words?.Length > MaxQueryChars || after?.Length > MaxCursorChars)
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, GalleryPages.Error("Search too long", $"A search is at most {MaxQueryChars} characters."));
            return;
        }

        var request = new GalleryQuery(
            string.IsNullOrWhiteSpace(words) ? null : words.Trim(),
            GalleryBadges.Filter(GalleryBadges.Architectures, Single(query["arch"])),
            GalleryBadges.Filter(GalleryBadges.OperatingSystems, Single(query["os"])));
        var page = await reader.SearchAsync(request.Words, request.Architecture, request.OperatingSystem, null, After(after), SearchPageSize, cancellationToken);
        var registries = new Dictionary<AccountId, PublicRegistryRecord>();
        foreach (var account in page.Repositories.Select(r => r.Account).Distinct())
        {
            if (await reader.GetRegistryAsync(account, cancellationToken) is { } registry)
            {
                registries[account] = registry;
            }
        }

        await PageAsync(context, StatusCodes.Status200OK, GalleryPages.Search(request, page, registries, After(after)));
    }

    private async Task RegistryAsync(HttpContext context, string alias, CancellationToken cancellationToken)
    {
        var after = Single(context.Request.Query["after"]);
        if (after?.Length > MaxCursorChars)
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, GalleryPages.Error("Bad link", "This page link is not valid."));
            return;
        }

        var registry = await reader.GetRegistryAsync(alias, cancellationToken);
        if (registry is null)
        {
            await NotFoundAsync(context, $"There is no public registry {alias} here.");
            return;
        }

        var page = await reader.SearchAsync(null, null, null, registry.Account, After(after), RegistryPageSize, cancellationToken);
        await PageAsync(context, StatusCodes.Status200OK, GalleryPages.Registry(registry, registry.PrimaryAlias, page, After(after)));
    }

    private async Task RepositoryAsync(HttpContext context, string alias, string name, CancellationToken cancellationToken)
    {
        var missing = string.Format(System.Globalization.CultureInfo.InvariantCulture, NotFoundRepository, alias + "/" + name);
        if (!RepositoryName.TryParse(name, out var repositoryName))
        {
            await NotFoundAsync(context, missing);
            return;
        }

        var after = Single(context.Request.Query["after"]);
        if (after is not null && !Tag.TryParse(after, out _))
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, GalleryPages.Error("Bad link", "This page link is not valid."));
            return;
        }

        var repository = await reader.GetRepositoryAsync(alias, repositoryName, cancellationToken);
        if (repository is null)
        {
            await NotFoundAsync(context, missing);
            return;
        }

        var tags = await reader.ListTagsAsync(repository.Repository, after, TagPageSize, cancellationToken);
        var pullTag = tags.Tags.Any(t => t.Tag == "latest") || await reader.HasTagAsync(repository.Repository, "latest", cancellationToken) || tags.Tags.Count == 0
            ? "latest"
            : tags.Tags[0].Tag;
        var html = GalleryPages.Repository(
            repository,
            tags,
            pullTag,
            Authority(context),
            after,
            GalleryMarkdown.ToSafeHtml(repository.Catalog.AboutText),
            GalleryMarkdown.ToSafeHtml(repository.Catalog.UsageText));
        await PageAsync(context, StatusCodes.Status200OK, html);
    }

    private async Task LogoAsync(HttpContext context, string sha256, CancellationToken cancellationToken)
    {
        var logo = await reader.GetLogoAsync(sha256, cancellationToken);

        // Only raster images are served (the store refuses others); anything else is treated as absent, never sent as what it claims.
        if (logo is null || logo.MediaType is not ("image/png" or "image/jpeg"))
        {
            await NotFoundAsync(context, "There is no such logo.");
            return;
        }

        var response = context.Response;
        var etag = "\"" + logo.Sha256 + "\"";
        SecurityHeaders(response);
        response.Headers.CacheControl = ImmutableCache;
        response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        await WriteAsync(context, StatusCodes.Status200OK, logo.MediaType, logo.Bytes);
    }

    private static Task AssetAsync(HttpContext context, string path)
    {
        var (content, type) = path == GalleryAssets.CssPath ? (GalleryAssets.Css, "text/css; charset=utf-8")
            : path == GalleryAssets.JsPath ? (GalleryAssets.Js, "text/javascript; charset=utf-8")
            : (null, null);
        if (content is null)
        {
            return NotFoundAsync(context, "There is no such file.");
        }

        SecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = ImmutableCache;
        return WriteAsync(context, StatusCodes.Status200OK, type!, content);
    }

    private static Task NotFoundAsync(HttpContext context, string message) =>
        PageAsync(context, StatusCodes.Status404NotFound, GalleryPages.Error("Not found", message));

    private static Task PageAsync(HttpContext context, int status, string html)
    {
        SecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = PageCache;
        return WriteAsync(context, status, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(html));
    }

    private static Task WriteAsync(HttpContext context, int status, string contentType, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static void SecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }

    /// <summary>How clients write the public address (<c>Public:Host</c>, or the listener's), else the host this page was asked for.</summary>
    private string Authority(HttpContext context) =>
        services.GetService<IPublicAddress>()?.Authority is { Length: > 0 } authority ? authority : context.Request.Host.Value ?? "localhost";

    private static string? Single(StringValues values) => values.Count == 0 ? null : values[0];

    private static string? After(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool IsAlias(string value) => PublicRegistryService.IsAlias(value);

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex LogoName();

    [LoggerMessage(EventId = 1800, Level = LogLevel.Error, Message = "Gallery page {Path} failed")]
    private static partial void LogFault(ILogger logger, PathString path, Exception exception);
}
