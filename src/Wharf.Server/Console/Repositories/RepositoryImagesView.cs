using System.Globalization;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Server.Identity;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>The page as the request's query asks for it (filters and page), with an optional banner from a form.</summary>
internal sealed class RepositoryImagesView(HttpContext context, ConsoleUser user, RepositoryKey key, RepositoryService repositories, ImageService images, ConsoleLayout layout, RegistryAddress addresses, int pageSize)
{
    public HttpContext Context => context;

    public ConsoleUser User => user;

    public RepositoryKey Key => key;

    public async Task WriteAsync(Html? banner, int status)
    {
        var tagged = ConsoleRouteValues.Query(context, "tagged") ?? "any";
        var prefix = ConsoleRouteValues.Query(context, "prefix")?.Trim();
        var statusText = ConsoleRouteValues.Query(context, "status") ?? "any";
        var afterText = ConsoleRouteValues.Query(context, "after");
        TagStatus? tagStatus = tagged switch { "any" => TagStatus.Any, "tagged" => TagStatus.Tagged, "untagged" => TagStatus.Untagged, _ => null };
        ImageStatusFilter? storage = statusText switch { "any" => ImageStatusFilter.Any, "active" => ImageStatusFilter.Active, "archived" => ImageStatusFilter.Archived, _ => null };
        if (tagStatus is null || storage is null || (!string.IsNullOrEmpty(prefix) && !IsTagPrefix(prefix)))
        {
            await ConsoleRouteValues.BadRequestAsync(context, user, key.Registry, "The images cannot be shown this way.", "Show any, tagged or untagged images, of any, active or archived status; a tag prefix is up to 128 letters, digits, '_', '.' and '-'.");
            return;
        }

        ImageCursor? after = null;
        if (!string.IsNullOrEmpty(afterText) && (after = ParseCursor(afterText)) is null)
        {
            await ConsoleRouteValues.BadRequestAsync(context, user, key.Registry, "This page link is not valid.", "The link's 'after' part does not name a place in this list. Go back to the first page.");
            return;
        }

        var repository = (await repositories.DescribeAsync(user.Caller, key.Registry, [key.Name], context.RequestAborted))[0];
        var limit = Math.Clamp(pageSize, 1, 1000);
        var page = await images.BrowseAsync(user.Caller, key, new ImageBrowse(tagStatus.Value, string.IsNullOrEmpty(prefix) ? null : prefix, storage.Value, after, limit + 1), context.RequestAborted);
        var now = DateTimeOffset.UtcNow;
        var host = addresses.Host(context.Request, key.Registry);
        var html = new Html();
        html.Add($"<div class=\"page-head\"><h1>{key.Name.Value}</h1><div class=\"actions\"><a class=\"button secondary\" href=\"{ConsoleRoutes.RepositorySettings(key)}\">Settings</a></div></div>");
        html.Append(banner ?? new Html());
        var uri = $"{host}/{key.Name.Value}";
        html.Add($"<dl class=\"facts\"><dt>URI</dt><dd><code>{uri}</code> {ConsoleFormat.CopyButton(uri, "Copy URI")}</dd>");
        html.Add($"<dt>Created</dt><dd>{ConsoleFormat.Time(repository.CreatedAt, now)}</dd>");
        html.Add($"<dt>Tag mutability</dt><dd>{RepositoryText.Mutability(repository.Settings)}</dd>");
        html.Add($"<dt>Scan on push</dt><dd>{(repository.Settings.ScanOnPush ? "Enabled" : "Disabled")}</dd>");
        html.Add($"<dt>Encryption</dt><dd>{RepositoryText.Encryption(repository.Settings)}</dd></dl>");
        html.Append(PushCommands.Panel(key, host, $"{context.Request.Scheme}://{context.Request.Host.Value}", !context.Request.IsHttps, key.Registry.Account != user.Caller.Account));

        html.Raw("<h2>Images</h2>");
        WriteFilters(html, tagged, prefix, statusText);
        var rows = page.Take(limit).ToList();
        if (rows.Count == 0)
        {
            html.Raw(tagged == "any" && string.IsNullOrEmpty(prefix) && statusText == "any" && after is null
                ? "<p class=\"empty\">No images yet. Use the push commands above to push one.</p>"
                : "<p class=\"empty\">No images match.</p>");
        }
        else
        {
            WriteImages(html, rows, now);
        }

        WritePages(html, tagged, prefix, statusText, after is not null, page.Count > limit ? FormatCursor(new ImageCursor(rows[^1].PushedAt, rows[^1].Digest)) : null);
        WriteDeleteRepository(html);
        await layout.WriteAsync(context, user, new ConsolePage(key.Name.Value, html)
        {
            Status = status,
            Registry = key.Registry,
            Breadcrumbs = [ConsoleRouteValues.RegistryCrumb(key.Registry), (key.Name.Value, null)],
        });
    }

    private void WriteFilters(Html html, string tagged, string? prefix, string status)
    {
        html.Add($"<form method=\"get\" action=\"{ConsoleRoutes.Repository(key)}\" class=\"filters\" aria-label=\"Filter images\">");
        html.Raw("<div><label for=\"tagged\">Tags</label><select id=\"tagged\" name=\"tagged\">");
        Option(html, "any", "Tagged and untagged", tagged);
        Option(html, "tagged", "Tagged", tagged);
        Option(html, "untagged", "Untagged", tagged);
        html.Add($"</select></div><div><label for=\"prefix\">Tag prefix</label><input id=\"prefix\" name=\"prefix\" maxlength=\"128\" spellcheck=\"false\" value=\"{prefix ?? string.Empty}\"></div>");
        html.Raw("<div><label for=\"status\">Status</label><select id=\"status\" name=\"status\">");
        Option(html, "any", "Active and archived", status);
        Option(html, "active", "Active", status);
        Option(html, "archived", "Archived", status);
        html.Raw("</select></div><div><button type=\"submit\">Apply</button></div></form>");
    }

    private void WriteImages(Html html, List<ImageSummary> rows, DateTimeOffset now)
    {
        html.Add($"<form method=\"post\" action=\"{ConsoleRoutes.Repository(key, context.Request.QueryString.Value)}\" aria-label=\"Selected images\"><input type=\"hidden\" name=\"{ConsoleCsrf.FieldName}\" value=\"{user.CsrfToken}\">");
        html.Raw("<div class=\"actions\"><button type=\"submit\" name=\"do\" value=\"archive\" class=\"secondary\">Archive selected</button><button type=\"submit\" name=\"do\" value=\"restore\" class=\"secondary\">Restore selected</button>");
        html.Raw("<button type=\"submit\" name=\"do\" value=\"delete\" class=\"danger\" data-confirm=\"Delete the selected images? Their tags go with them.\">Delete selected</button></div>");
        html.Raw("<div class=\"table-wrap\"><table class=\"list cards images\"><caption class=\"sr-only\">Images, newest pushed first</caption><thead><tr>");
        html.Raw("<th scope=\"col\"><input type=\"checkbox\" data-select-all=\"image\" aria-label=\"Select all images\" hidden></th><th scope=\"col\">Tags</th><th scope=\"col\">Digest</th><th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Pushed</th><th scope=\"col\">Last pulled</th><th scope=\"col\">Status</th><th scope=\"col\">Scan</th></tr></thead><tbody>");
        var index = 0;
        foreach (var image in rows)
        {
            index++;
            var digest = image.Digest.ToString();
            html.Add($"<tr><td data-label=\"Select\"><input type=\"checkbox\" id=\"image-{index}\" name=\"image\" value=\"{digest}\" aria-label=\"Select image {ConsoleFormat.Short(image.Digest)}\"></td>");
            html.Raw("<td data-label=\"Tags\">");
            if (image.Tags.Count == 0)
            {
                html.Raw("<span class=\"muted\">untagged</span>");
            }
            else
            {
                html.Raw("<ul class=\"tags\">");
                foreach (var tag in image.Tags)
                {
                    html.Add($"<li class=\"badge\">{tag}</li>");
                }

                html.Raw("</ul>");
            }

            // The link holds the short digest only: the copy button may not sit inside a link.
            html.Add($"</td><td data-label=\"Digest\"><a href=\"{ConsoleRoutes.Image(key, image.Digest)}\"><code class=\"digest\" title=\"{digest}\">{ConsoleFormat.Short(image.Digest)}</code></a> {ConsoleFormat.CopyButton(digest, "Copy digest")}</td>");
            html.Add($"<td data-label=\"Size\" class=\"num\">{ConsoleFormat.Size(image.Size)}</td><td data-label=\"Pushed\">{ConsoleFormat.Time(image.PushedAt, now)}</td><td data-label=\"Last pulled\">{ConsoleFormat.Time(image.LastPulledAt, now)}</td>");
            html.Add($"<td data-label=\"Status\">{(image.Archived ? "archived" : "active")}</td><td data-label=\"Scan\">{Scan(image.Scan)}</td></tr>");
        }

        html.Raw("</tbody></table></div></form>");
    }

    private void WritePages(Html html, string tagged, string? prefix, string status, bool notFirst, string? next) =>
        html.Append(ConsoleFormat.Pages(
            "Pages",
            notFirst ? (ConsoleRoutes.Repository(key, Html.Query(("tagged", tagged), ("prefix", prefix), ("status", status))), "Newest images") : null,
            next is null ? null : (ConsoleRoutes.Repository(key, Html.Query(("tagged", tagged), ("prefix", prefix), ("status", status), ("after", next))), "Older images")));

    private void WriteDeleteRepository(Html html)
    {
        html.Raw("<details class=\"panel\"><summary>Delete repository</summary>");
        html.Append(ConsoleForms.Open(user, ConsoleRoutes.Repository(key), "delete-repository", confirm: $"Delete the repository {key.Name.Value}?", label: "Delete repository"));
        html.Raw("<label class=\"check\" for=\"force\"><input type=\"checkbox\" id=\"force\" name=\"force\"> Also delete its images (force)</label>");
        html.Add($"<label for=\"confirm\">Type the repository name to confirm</label><input id=\"confirm\" name=\"confirm\" autocomplete=\"off\" spellcheck=\"false\" required placeholder=\"{key.Name.Value}\">");
        html.Raw("<div class=\"actions\"><button type=\"submit\" class=\"danger\">Delete repository</button></div></form></details>");
    }

    private static Html Scan(ImageScanRecord? scan)
    {
        var html = new Html();
        if (scan is null)
        {
            return html.Raw("<span class=\"muted\">not scanned</span>");
        }

        html.Add($"<span>{scan.Status}</span>");
        if (scan.SeverityCounts.Count > 0)
        {
            html.Raw(" <span class=\"tags\">");
            foreach (var (severity, count) in scan.SeverityCounts.OrderBy(s => SeverityRank(s.Key)))
            {
                html.Add($"<span class=\"badge sev {severity.ToLowerInvariant()}\" title=\"{severity}\">{severity} {count}</span>");
            }

            html.Raw("</span>");
        }

        return html;
    }

    private static int SeverityRank(string severity) => severity switch
    {
        "CRITICAL" => 0,
        "HIGH" => 1,
        "MEDIUM" => 2,
        "LOW" => 3,
        "INFORMATIONAL" => 4,
        _ => 5,
    };

    private static void Option(Html html, string value, string label, string current) =>
        html.Add($"<option value=\"{value}\"{(value == current ? new Html().Raw(" selected") : null)}>{label}</option>");

    private static string FormatCursor(ImageCursor cursor) =>
        string.Create(CultureInfo.InvariantCulture, $"{cursor.PushedAt.ToUnixTimeMilliseconds()}.{cursor.Digest}");

    private static ImageCursor? ParseCursor(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0
            && long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= 253402300799999
            && Digest.TryParse(text[(dot + 1)..], out var digest)
            ? new ImageCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), digest)
            : null;
    }

    private static bool IsTagPrefix(string prefix) =>
        prefix.Length <= 128 && prefix.All(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' or '.' or '-');
}
