using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Wharf.Server.Hosting;

namespace Wharf.Server.WebConsole;

/// <summary>
/// The web console: server-rendered pages under <c>/console/</c> on the main port, every one through
/// <see cref="ConsoleRequestFilter"/> (session, CSRF, errors in plain words) and, for everything it shows or
/// changes, the same Core services and authorisation as the API, as the signed-in principal. Each area
/// registers its services and maps its routes in its own file.
/// <para>The folder is <c>Console/</c> (STYLE.md's layout); the namespace is <c>WebConsole</c>, because a
/// <c>Wharf.Server.Console</c> namespace would hide <see cref="System.Console"/> from every other namespace of the server.</para>
/// </summary>
internal static class ConsoleRegistration
{
    public static IServiceCollection AddConsole(this IServiceCollection services, WharfOptions options)
    {
        services.TryAddSingleton<ConsoleCsrf>();
        services.TryAddSingleton<ConsoleLayout>();
        services.TryAddSingleton<ConsoleRequestFilter>();
        if (options.Auth == AuthMode.Open)
        {
            services.TryAddSingleton<IConsoleSessions, OpenConsoleSessions>();
        }

        SignIn.SignInPages.AddServices(services, options);
        Repositories.RepositoryPages.AddServices(services);
        Images.ImagePages.AddServices(services);
        Settings.SettingsPages.AddServices(services);
        Identity.IdentityPages.AddServices(services);
        return services;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<WharfOptions>>().Value.Console.Enabled)
        {
            return app;
        }

        app.MapMethods(ConsoleRoutes.AssetPrefix + "{file}", [HttpMethods.Get, HttpMethods.Head], AssetAsync);

        var console = app.MapGroup(ConsoleRoutes.Root);
        console.AddEndpointFilter<ConsoleRequestFilter>();
        // /console and /console/ (routing does not tell them apart): the caller's default registry.
        console.MapGet("/", (HttpContext context) =>
        {
            var user = ConsoleRequest.User(context);
            return ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Repositories(context.RequestServices.GetRequiredService<ConsoleLayout>().DefaultRegistry(user)));
        });
        SignIn.SignInPages.Map(console);
        Repositories.RepositoryPages.Map(console);
        Images.ImagePages.Map(console);
        Settings.SettingsPages.Map(console);
        Identity.IdentityPages.Map(console);

        // Anything else under /console: a page that says so (the routes above are more specific, so win).
        console.MapMethods("/{**rest}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post], (HttpContext context) =>
            context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(
                context,
                ConsoleRequest.UserOrNull(context),
                new ConsolePage("Page not found", ConsoleErrors.Banner("There is no console page at this address.", "Follow a link from the header to find your way.")) { Status = StatusCodes.Status404NotFound }));
        return app;
    }

    // The hashed stylesheet and script; anything else under the prefix is not found.
    private static async Task AssetAsync(HttpContext context, string file)
    {
        var path = ConsoleRoutes.AssetPrefix + file;
        var (content, type) = path == ConsoleAssets.CssPath ? (ConsoleAssets.Css, "text/css; charset=utf-8")
            : path == ConsoleAssets.JsPath ? (ConsoleAssets.Js, "text/javascript; charset=utf-8")
            : (null, null);
        if (content is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = type;
        context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.ContentLength = content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(content, context.RequestAborted);
        }
    }
}
