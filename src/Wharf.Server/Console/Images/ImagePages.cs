using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Primitives;
using Wharf.Server.Hosting;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Images;

/// <summary>An image: its manifest or index, layers, config, referrers and scan findings; scan now.</summary>
internal static class ImagePages
{
    private const string Route = "/{account}/{region}/image/{digest}/{**name}";

    public static void AddServices(IServiceCollection services)
    {
        services.TryAddSingleton<ImagePageLoader>();
    }

    public static void Map(RouteGroupBuilder console)
    {
        console.MapMethods(Route, [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string account, string region, string digest, string name) =>
            ShowAsync(context, account, region, digest, name, banner: null, status: StatusCodes.Status200OK));
        console.MapPost(Route, PostAsync);
    }

    private static async Task PostAsync(HttpContext context, string account, string region, string digest, string name)
    {
        if (!TryParse(account, region, digest, name, out var key, out var image))
        {
            await NotFoundAsync(context, null);
            return;
        }

        var user = ConsoleRequest.User(context);
        if (ConsoleForms.Field(context, ConsoleForms.ActionField) != "scan")
        {
            await ShowAsync(context, account, region, digest, name, ConsoleErrors.Banner("This page cannot do that.", "The image page can only start a scan."), StatusCodes.Status400BadRequest);
            return;
        }

        try
        {
            await context.RequestServices.GetRequiredService<ImageService>().StartScanAsync(user.Caller, key, new ImageRef(image.ToString(), null), context.RequestAborted);
        }
        catch (WharfException e) when (e.Code is not (WharfErrorCode.ImageNotFound or WharfErrorCode.NameUnknown))
        {
            var status = ErrorCatalogue.Describe(e.Code).OciStatus;
            await ShowAsync(context, account, region, digest, name, ScanRefusal(e), status is >= 400 and < 500 ? status : StatusCodes.Status400BadRequest);
            return;
        }

        await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Image(key, image) + "#findings", "The scan has started. Its findings appear here when it completes (reload the page).");
    }

    private static async Task ShowAsync(HttpContext context, string account, string region, string digest, string name, Html? banner, int status)
    {
        var user = ConsoleRequest.User(context);
        if (!TryParse(account, region, digest, name, out var key, out var image))
        {
            await NotFoundAsync(context, null);
            return;
        }

        ImagePageData data;
        try
        {
            data = await context.RequestServices.GetRequiredService<ImagePageLoader>().LoadAsync(user.Caller, key, image, context.RequestAborted);
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.ImageNotFound or WharfErrorCode.ManifestUnknown or WharfErrorCode.NameUnknown)
        {
            await NotFoundAsync(context, key, e);
            return;
        }

        var options = context.RequestServices.GetRequiredService<IOptions<WharfOptions>>().Value.Console;
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var page = int.TryParse(context.Request.Query["page"], out var p) && p > 0 ? p : 1;
        var body = ImagePageView.Render(user, data, banner, now, page, Math.Max(1, options.PageSize));
        await context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(context, user, new ConsolePage(ImagePageView.Title(data), body)
        {
            Status = status,
            Registry = key.Registry,
            Breadcrumbs = Crumbs(key, ConsoleFormat.Short(image)),
        });
    }

    /// <summary>The scan refusals in plain words, each with the API's own message below.</summary>
    private static Html ScanRefusal(WharfException e) => e.Code switch
    {
        WharfErrorCode.ScanLimitExceeded => ConsoleErrors.Banner("This image was scanned (or a scan was started) in the last 24 hours.", e.Message),
        WharfErrorCode.UnsupportedImageType => ConsoleErrors.Banner("This artifact is not a container image, so it cannot be scanned.", e.Message),
        WharfErrorCode.ImageArchived => ConsoleErrors.Banner("This image is archived: restore it before scanning it.", e.Message),
        _ => ConsoleErrors.Banner(e),
    };

    private static Task NotFoundAsync(HttpContext context, RepositoryKey? key, WharfException? e = null)
    {
        var user = ConsoleRequest.User(context);
        var layout = context.RequestServices.GetRequiredService<ConsoleLayout>();
        var body = e is null
            ? ConsoleErrors.Banner("There is no image at this address.", "The address names no account, region, digest or repository that could exist.")
            : ConsoleErrors.Banner(e);
        if (key is not null)
        {
            body.Add($"<p><a href=\"{ConsoleRoutes.Repository(key)}\">Back to the repository {key.Name.Value}</a></p>");
        }

        return layout.WriteAsync(context, user, new ConsolePage("Image not found", body)
        {
            Status = StatusCodes.Status404NotFound,
            Registry = key?.Registry,
            Breadcrumbs = key is null ? [] : Crumbs(key, "Image not found"),
        });
    }

    private static IReadOnlyList<(string Label, string? Href)> Crumbs(RepositoryKey key, string last) =>
        [("Repositories", ConsoleRoutes.Repositories(key.Registry)), (key.Name.Value, ConsoleRoutes.Repository(key)), (last, null)];

    private static bool TryParse(string account, string region, string digest, string name, out RepositoryKey key, out Digest image)
    {
        key = null!;
        image = default;
        if (!AccountId.TryParse(account, out var accountId) || !IsRegion(region) || !Digest.TryParse(digest, out image) || !RepositoryName.TryParse(name, out var repository))
        {
            return false;
        }

        key = new RepositoryKey(new RegistryKey(accountId, region), repository);
        return true;
    }

    // A private registry's region: lowercase words joined by '-' (never the public registries' "_public").
    private static bool IsRegion(string region) =>
        region.Length is > 0 and <= 64 && region.Split('-').All(word => word.Length > 0 && word.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9'));
}
