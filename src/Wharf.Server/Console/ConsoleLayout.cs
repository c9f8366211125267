using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Primitives;
using Wharf.Server.Hosting;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>
/// The page shell every console page shares: head with the CSP and the hashed assets, a skip link, the
/// header (sections, the current registry, who is signed in, sign-out), breadcrumbs, the notice a previous
/// form left (<see cref="RedirectAsync"/>), the page, and a footer. Security headers on every response.
/// </summary>
internal sealed class ConsoleLayout(IOptions<WharfOptions> options)
{
    /// <summary>Nothing loads but the console's own stylesheet and script; no inline script or style, no framing, forms post here only.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private const string NoticeCookie = "wharf-console-notice";

    /// <summary>The registry the header's links use when a page is not about one: the caller's account in the default region.</summary>
    public RegistryKey DefaultRegistry(ConsoleUser user) => new(user.Caller.Account, options.Value.Registry.DefaultRegion);

    /// <summary>Writes <paramref name="page"/> in the shell. <paramref name="user"/> is null on the sign-in pages.</summary>
    public async Task WriteAsync(HttpContext context, ConsoleUser? user, ConsolePage page)
    {
        var notice = context.Request.Cookies[NoticeCookie];
        if (notice is not null)
        {
            context.Response.Cookies.Delete(NoticeCookie, new CookieOptions { Path = ConsoleRoutes.Root });
        }

        var html = new Html();
        html.Add($"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\"><link rel=\"icon\" href=\"data:,\"><title>{page.Title} · Wharf</title>");
        html.Add($"<link rel=\"stylesheet\" href=\"{ConsoleAssets.CssPath}\"><script src=\"{ConsoleAssets.JsPath}\" defer></script></head><body>");
        html.Raw("<a class=\"skip\" href=\"#main\">Skip to content</a>");
        WriteHeader(html, user, page);
        html.Raw("<main id=\"main\" tabindex=\"-1\">");
        if (page.Breadcrumbs.Count > 0)
        {
            html.Raw("<nav aria-label=\"Breadcrumb\" class=\"crumbs\"><ol>");
            foreach (var (label, href) in page.Breadcrumbs)
            {
                if (href is null)
                {
                    html.Add($"<li><span aria-current=\"page\">{label}</span></li>");
                }
                else
                {
                    html.Add($"<li><a href=\"{href}\">{label}</a></li>");
                }
            }

            html.Raw("</ol></nav>");
        }

        if (!string.IsNullOrEmpty(notice))
        {
            html.Add($"<div class=\"alert ok\" role=\"status\">{Uri.UnescapeDataString(notice)}</div>");
        }

        html.Append(page.Body);
        html.Raw("</main><footer><p>Wharf · <a href=\"https://docs.aws.amazon.com/AmazonECR/latest/userguide/what-is-ecr.html\" rel=\"noreferrer\">ECR's user guide</a> describes what these pages manage.</p></footer>");
        html.Raw("<p id=\"copy-status\" class=\"sr-only\" role=\"status\" aria-live=\"polite\"></p></body></html>");
        await WriteHtmlAsync(context, page.Status, html);
    }

    /// <summary>After a successful form: a 303 to <paramref name="location"/>, whose page then shows <paramref name="notice"/> once.</summary>
    public static Task RedirectAsync(HttpContext context, string location, string? notice = null)
    {
        if (notice is not null)
        {
            context.Response.Cookies.Append(NoticeCookie, Uri.EscapeDataString(notice.Length > 300 ? notice[..300] : notice), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Lax,
                Secure = context.Request.IsHttps,
                Path = ConsoleRoutes.Root,
                MaxAge = TimeSpan.FromMinutes(1),
            });
        }

        SecurityHeaders(context.Response);
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    /// <summary>The headers every console response carries (pages hold private data: never cached, never framed).</summary>
    public static void SecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.CacheControl = "no-store";
    }

    public static async Task WriteHtmlAsync(HttpContext context, int status, Html html)
    {
        SecurityHeaders(context.Response);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(html.ToString());
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        }
    }

    private void WriteHeader(Html html, ConsoleUser? user, ConsolePage page)
    {
        html.Add($"<header class=\"top\"><div class=\"bar\"><a class=\"brand\" href=\"{ConsoleRoutes.Home}\">Wharf</a>");
        if (user is not null)
        {
            var registry = page.Registry ?? DefaultRegistry(user);
            html.Raw("<nav aria-label=\"Sections\" class=\"sections\"><ul>");
            Link(html, page.Section == ConsoleSection.Repositories, ConsoleRoutes.Repositories(registry), "Repositories");
            Link(html, page.Section == ConsoleSection.Registries, ConsoleRoutes.Registries, "Registries");
            Link(html, page.Section == ConsoleSection.RegistrySettings, ConsoleRoutes.RegistrySettings(registry), "Registry settings");
            Link(html, page.Section == ConsoleSection.Identity, ConsoleRoutes.Users, "Identity");
            html.Raw("</ul></nav>");
            html.Add($"<div class=\"who\"><span class=\"registry\" title=\"The registry these pages show\">{registry.Account.Value} · {registry.Region}</span> ");
            if (user.Method == Core.Metadata.ConsoleSignInMethod.Password)
            {
                // Signed in with a password: the name leads to changing it.
                html.Add($"<a class=\"principal\" href=\"{ConsoleRoutes.Password}\" title=\"{user.Caller.PrincipalArn} · change your password\">{user.DisplayName}</a>");
            }
            else
            {
                html.Add($"<span class=\"principal\" title=\"{user.Caller.PrincipalArn}\">{user.DisplayName}</span>");
            }
            if (user.Method != Core.Metadata.ConsoleSignInMethod.Open)
            {
                html.Add($"<form method=\"post\" action=\"{ConsoleRoutes.SignOut}\" class=\"inline\"><input type=\"hidden\" name=\"{ConsoleCsrf.FieldName}\" value=\"{user.CsrfToken}\"><button type=\"submit\" class=\"secondary\">Sign out</button></form>");
            }

            html.Raw("</div>");
        }

        html.Raw("</div></header>");
    }

    private static void Link(Html html, bool current, string href, string label)
    {
        if (current)
        {
            html.Add($"<li><a href=\"{href}\" aria-current=\"page\">{label}</a></li>");
        }
        else
        {
            html.Add($"<li><a href=\"{href}\">{label}</a></li>");
        }
    }
}
