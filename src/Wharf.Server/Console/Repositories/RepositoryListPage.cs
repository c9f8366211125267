using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>
/// <c>/console/{account}/{region}/repositories</c>: a registry's repositories, <c>?q=</c> (name contains),
/// <c>?sort=name|created</c>, <c>?order=asc|desc</c>, keyset pages of <c>Console:PageSize</c> (<c>?after=</c>).
/// Sorting by image count or size is not offered: it would need every repository's counts for each page.
/// </summary>
internal static class RepositoryListPage
{
    /// <summary>ECR's longest repository name: a longer search can match nothing.</summary>
    private const int MaxQuery = 256;

    public static async Task ShowAsync(HttpContext context, string account, string region, RepositoryService repositories, ConsoleLayout layout, RegistryAddress addresses, IOptions<WharfOptions> options)
    {
        var user = ConsoleRequest.User(context);
        if (!ConsoleRouteValues.TryRegistry(account, region, out var key))
        {
            await ConsoleRouteValues.NotFoundAsync(context, user, "registry");
            return;
        }

        var registry = key.Value;
        var q = ConsoleRouteValues.Query(context, "q")?.Trim();
        var sortText = ConsoleRouteValues.Query(context, "sort") ?? "name";
        var orderText = ConsoleRouteValues.Query(context, "order");
        var afterText = ConsoleRouteValues.Query(context, "after");
        RepositorySort? sort = sortText switch { "name" => RepositorySort.Name, "created" => RepositorySort.Created, _ => null };
        bool? descending = orderText switch { null or "" => sort == RepositorySort.Created, "asc" => false, "desc" => true, _ => null };
        if (sort is null || descending is null || q?.Length > MaxQuery)
        {
            await ConsoleRouteValues.BadRequestAsync(context, user, registry, "The list cannot be shown this way.", $"Sort by name or created, in asc or desc order; a search is at most {MaxQuery} characters.");
            return;
        }

        RepositoryCursor? after = null;
        if (!string.IsNullOrEmpty(afterText) && (after = ParseCursor(sort.Value, afterText)) is null)
        {
            await ConsoleRouteValues.BadRequestAsync(context, user, registry, "This page link is not valid.", "The link's 'after' part does not name a place in this list. Go back to the first page.");
            return;
        }

        var pageSize = Math.Clamp(options.Value.Console.PageSize, 1, 1000);
        var page = await repositories.BrowseAsync(user.Caller, registry, new RepositoryBrowse(string.IsNullOrEmpty(q) ? null : q, sort.Value, descending.Value, after, pageSize), context.RequestAborted);
        var html = new Html();
        html.Add($"<div class=\"page-head\"><h1>Repositories</h1><div class=\"actions\"><a class=\"button\" href=\"{ConsoleRoutes.NewRepository(registry)}\">Create repository</a></div></div>");
        WriteFilters(html, registry, q, sort.Value, descending.Value);
        if (page.Filtered)
        {
            html.Raw("<div class=\"alert warning\" role=\"note\"><p>This list is filtered: you may not list every repository of this registry (<code>ecr:DescribeRepositories</code> on <code>repository/*</code>), so it shows only the repositories you may describe one by one.</p></div>");
        }

        if (page.Rows.Count == 0)
        {
            html.Raw(string.IsNullOrEmpty(q) && after is null
                ? "<p class=\"empty\">No repositories here yet. Create one, or push an image to create it.</p>"
                : "<p class=\"empty\">No repositories match.</p>");
        }
        else
        {
            WriteTable(html, page, addresses.Host(context.Request, registry), DateTimeOffset.UtcNow);
        }

        WritePages(html, registry, q, sortText, orderText, after is not null, page.Next is { } next ? FormatCursor(sort.Value, next) : null);
        await layout.WriteAsync(context, user, new ConsolePage("Repositories", html)
        {
            Registry = registry,
            Breadcrumbs = [ConsoleRouteValues.RegistryCrumb(registry) with { Href = ConsoleRoutes.Registries }, ("Repositories", null)],
        });
    }

    public static string FormatCursor(RepositorySort sort, RepositoryCursor cursor) =>
        sort == RepositorySort.Name ? cursor.Name : string.Create(CultureInfo.InvariantCulture, $"{cursor.CreatedAt.ToUnixTimeMilliseconds()}.{cursor.Id}");

    public static RepositoryCursor? ParseCursor(RepositorySort sort, string text)
    {
        if (sort == RepositorySort.Name)
        {
            return RepositoryName.TryParse(text, out var name) ? new RepositoryCursor(name.Value, DateTimeOffset.UnixEpoch, 0) : null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0
            && long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= 253402300799999
            && long.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? new RepositoryCursor(string.Empty, DateTimeOffset.FromUnixTimeMilliseconds(ms), id)
            : null;
    }

    private static void WriteFilters(Html html, RegistryKey registry, string? q, RepositorySort sort, bool descending)
    {
        html.Add($"<form method=\"get\" action=\"{ConsoleRoutes.Repositories(registry)}\" class=\"filters\" role=\"search\" aria-label=\"Find repositories\">");
        html.Add($"<div><label for=\"q\">Search repositories</label><input id=\"q\" name=\"q\" type=\"search\" maxlength=\"{MaxQuery}\" value=\"{q ?? string.Empty}\" placeholder=\"name contains…\"></div>");
        html.Raw("<div><label for=\"sort\">Sort by</label><select id=\"sort\" name=\"sort\">");
        Option(html, "name", "Name", sort == RepositorySort.Name);
        Option(html, "created", "Created", sort == RepositorySort.Created);
        html.Raw("</select></div><div><label for=\"order\">Order</label><select id=\"order\" name=\"order\">");
        Option(html, "asc", "Ascending", !descending);
        Option(html, "desc", "Descending", descending);
        html.Raw("</select></div><div><button type=\"submit\">Apply</button></div></form>");
    }

    private static void WriteTable(Html html, RepositoryBrowsePage page, string host, DateTimeOffset now)
    {
        html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Repositories</caption><thead><tr>");
        html.Raw("<th scope=\"col\">Name</th><th scope=\"col\">URI</th><th scope=\"col\">Created</th><th scope=\"col\" class=\"num\">Images</th><th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Tag mutability</th><th scope=\"col\">Scan on push</th><th scope=\"col\">Encryption</th></tr></thead><tbody>");
        foreach (var (repository, statistics) in page.Rows)
        {
            var uri = $"{host}/{repository.Key.Name.Value}";
            html.Add($"<tr><th scope=\"row\" data-label=\"Name\"><a href=\"{ConsoleRoutes.Repository(repository.Key)}\">{repository.Key.Name.Value}</a></th>");
            html.Add($"<td data-label=\"URI\"><code>{uri}</code> {ConsoleFormat.CopyButton(uri, "Copy URI of " + repository.Key.Name.Value)}</td>");
            html.Add($"<td data-label=\"Created\">{ConsoleFormat.Time(repository.CreatedAt, now)}</td>");
            html.Add($"<td data-label=\"Images\" class=\"num\">{statistics.Images}</td><td data-label=\"Size\" class=\"num\">{ConsoleFormat.Size(statistics.Size)}</td>");
            html.Add($"<td data-label=\"Tag mutability\">{RepositoryText.Mutability(repository.Settings)}</td>");
            html.Add($"<td data-label=\"Scan on push\">{(repository.Settings.ScanOnPush ? "Enabled" : "Disabled")}</td>");
            html.Add($"<td data-label=\"Encryption\">{RepositoryText.Encryption(repository.Settings)}</td></tr>");
        }

        html.Raw("</tbody></table></div>");
    }

    private static void WritePages(Html html, RegistryKey registry, string? q, string sort, string? order, bool notFirst, string? next) =>
        html.Append(ConsoleFormat.Pages(
            "Pages",
            notFirst ? (ConsoleRoutes.Repositories(registry, Html.Query(("q", q), ("sort", sort), ("order", order))), "First page") : null,
            next is null ? null : (ConsoleRoutes.Repositories(registry, Html.Query(("q", q), ("sort", sort), ("order", order), ("after", next))), "Next page")));

    private static void Option(Html html, string value, string label, bool selected) =>
        html.Add($"<option value=\"{value}\"{(selected ? new Html().Raw(" selected") : null)}>{label}</option>");
}
