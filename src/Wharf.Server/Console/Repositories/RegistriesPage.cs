using Microsoft.Extensions.Options;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Server.Hosting;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>
/// <c>/console/registries</c>: the registries of the caller's account (the default region and every region
/// with repositories), each with its repository count when the caller may list them, and a form to open any
/// other registry (another region, or another account's registry for cross-account access).
/// </summary>
internal static class RegistriesPage
{
    public static async Task ShowAsync(HttpContext context, RepositoryService repositories, ConsoleLayout layout, IOptions<WharfOptions> options)
    {
        var user = ConsoleRequest.User(context);
        var defaultRegistry = layout.DefaultRegistry(user);
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Registries</h1></div>");
        html.Raw("<p class=\"hint\">A registry is an account's repositories in one region. These are your account's registries: the default region's and every region where it has repositories.</p>");

        var account = ConsoleRouteValues.Query(context, "account");
        var region = ConsoleRouteValues.Query(context, "region");
        if (account is not null || region is not null)
        {
            // The "open a registry" form is a GET to this page: a valid pair goes there, anything else is said here.
            if (ConsoleRouteValues.TryRegistry(string.IsNullOrEmpty(account) ? user.Caller.Account.Value : account.Trim(), region?.Trim(), out var chosen))
            {
                await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Repositories(chosen.Value));
                return;
            }

            html.Append(ConsoleErrors.Banner("That is not a registry.", "An account ID is 12 digits and a region is a name such as us-east-1 or eu-west-2."));
        }

        var registries = await repositories.RegistriesAsync(user.Caller, user.Caller.Account, options.Value.Registry.DefaultRegion, context.RequestAborted);
        html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Your account's registries</caption><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Region</th><th scope=\"col\" class=\"num\">Repositories</th></tr></thead><tbody>");
        foreach (var registry in registries)
        {
            var count = registry.Repositories is { } n ? new Html().Add($"{n}") : new Html().Raw("<span class=\"muted\" title=\"You may not list this registry's repositories (ecr:DescribeRepositories)\">not listed</span>");
            var current = registry.Registry == defaultRegistry ? new Html().Raw(" <span class=\"badge\">default</span>") : null;
            html.Add($"<tr><td data-label=\"Account\">{registry.Registry.Account.Value}</td><td data-label=\"Region\"><a href=\"{ConsoleRoutes.Repositories(registry.Registry)}\">{registry.Registry.Region}</a>{current}</td><td data-label=\"Repositories\" class=\"num\">{count}</td></tr>");
        }

        html.Raw("</tbody></table></div>");
        html.Add($"<h2>Open another registry</h2><form method=\"get\" action=\"{ConsoleRoutes.Registries}\" class=\"filters\" aria-label=\"Open another registry\">");
        html.Add($"<div><label for=\"open-account\">Account ID</label><input id=\"open-account\" name=\"account\" inputmode=\"numeric\" maxlength=\"12\" value=\"{account ?? user.Caller.Account.Value}\" aria-describedby=\"open-hint\"></div>");
        html.Add($"<div><label for=\"open-region\">Region</label><input id=\"open-region\" name=\"region\" maxlength=\"64\" value=\"{region ?? string.Empty}\" placeholder=\"eu-west-1\" required></div>");
        html.Raw("<div><button type=\"submit\">Open</button></div></form>");
        html.Raw("<p id=\"open-hint\" class=\"hint\">Another account's registry shows what its registry and repository policies let you see.</p>");
        await layout.WriteAsync(context, user, new ConsolePage("Registries", html) { Section = ConsoleSection.Registries, Registry = defaultRegistry });
    }
}
