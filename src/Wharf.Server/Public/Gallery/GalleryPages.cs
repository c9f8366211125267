using System.Globalization;
using Wharf.Core.Metadata;
using Wharf.Core.Public;
using Wharf.Server.Web;

namespace Wharf.Server.Public.Gallery;

/// <summary>What a gallery request asked for: the search box's words and the badge filters, kept across pages.</summary>
internal sealed record GalleryQuery(string? Words, string? Architecture, string? OperatingSystem)
{
    public static readonly GalleryQuery None = new(null, null, null);
}

/// <summary>
/// The gallery's pages as HTML: search, registry, repository, and the error pages. Every value is
/// encoded by <see cref="Html"/>; the one block of markup not written here is the sanitized Markdown.
/// </summary>
internal static class GalleryPages
{
    /// <summary>A description in a search result is cut at this many characters (the repository page shows it whole).</summary>
    public const int ResultDescriptionChars = 280;

    public static string Search(GalleryQuery query, PublicSearchPage page, IReadOnlyDictionary<Core.Primitives.AccountId, PublicRegistryRecord> registries, string? after)
    {
        var title = query.Words is null ? "Public repositories" : $"Search results for \u201c{query.Words}\u201d";
        return Layout(title, query, h =>
        {
            h.Raw("<h1>").Text(title).Raw("</h1>");
            Filters(h, query);
            if (page.Repositories.Count == 0)
            {
                h.Raw("<p>").Text(after is null ? "No public repository matches." : "No more repositories.").Raw("</p>");
            }
            else
            {
                Results(h, page.Repositories, registries, "h2", showRegistry: true);
            }

            Pages(h, after is not null ? "/" + Html.Query(("q", query.Words), ("arch", query.Architecture), ("os", query.OperatingSystem)) : null,
                page.Next is { } next ? "/" + Html.Query(("q", query.Words), ("arch", query.Architecture), ("os", query.OperatingSystem), ("after", next)) : null);
        });
    }

    public static string Registry(PublicRegistryRecord registry, string alias, PublicSearchPage page, string? after)
    {
        var name = Title(registry, alias);
        return Layout(name, GalleryQuery.None, h =>
        {
            h.Raw("<nav aria-label=\"Breadcrumb\" class=\"muted\"><a href=\"/\">Gallery</a> / ").Text(alias).Raw("</nav>");
            h.Raw("<h1>").Text(name);
            Verified(h, registry);
            h.Raw("</h1>");
            h.Raw("<p class=\"muted\">Public registry <code>").Text(alias).Raw("</code></p>");
            h.Raw("<h2>Repositories</h2>");
            if (page.Repositories.Count == 0)
            {
                h.Raw("<p>").Text(after is null ? "This registry has no public repositories." : "No more repositories.").Raw("</p>");
            }
            else
            {
                Results(h, page.Repositories, new Dictionary<Core.Primitives.AccountId, PublicRegistryRecord> { [registry.Account] = registry }, "h3", showRegistry: false);
            }

            var self = "/" + Html.Path(alias);
            Pages(h, after is not null ? self : null, page.Next is { } next ? self + Html.Query(("after", next)) : null);
        });
    }

    public static string Repository(GalleryRepository repository, GalleryTagPage tags, string pullTag, string authority, string? after, string aboutHtml, string usageHtml)
    {
        var alias = repository.Alias;
        var name = repository.Repository.Key.Name.Value;
        var full = alias + "/" + name;
        var catalog = repository.Catalog;
        var registry = repository.Registry;
        var image = $"{authority}/{full}";
        return Layout(full, GalleryQuery.None, h =>
        {
            h.Raw("<nav aria-label=\"Breadcrumb\" class=\"muted\"><a href=\"/\">Gallery</a> / <a").Url("href", "/" + Html.Path(alias)).Raw(">").Text(alias).Raw("</a> / ").Text(name).Raw("</nav>");
            h.Raw("<div class=\"repo-head\">");
            Logo(h, registry, catalog.LogoSha256, full);
            h.Raw("<div><h1>").Text(full).Raw("</h1>");
            h.Raw("<p class=\"muted\">Published by <a").Url("href", "/" + Html.Path(alias)).Raw(">").Text(Title(registry, alias)).Raw("</a>");
            Verified(h, registry);
            h.Raw("</p></div></div>");
            if (!string.IsNullOrWhiteSpace(catalog.Description))
            {
                h.Raw("<p class=\"description\">").Text(catalog.Description).Raw("</p>");
            }

            Badges(h, catalog.Architectures, catalog.OperatingSystems);

            h.Raw("<section aria-labelledby=\"pull\"><h2 id=\"pull\">Pull this image</h2>");
            PullCommand(h, "podman pull " + image + ":" + pullTag);
            PullCommand(h, "docker pull " + image + ":" + pullTag);
            h.Raw("</section>");

            if (aboutHtml.Length > 0)
            {
                h.Raw("<section aria-labelledby=\"about\"><h2 id=\"about\">About</h2><div class=\"markdown\" id=\"about-text\">").Trusted(aboutHtml).Raw("</div></section>");
            }

            if (usageHtml.Length > 0)
            {
                h.Raw("<section aria-labelledby=\"usage\"><h2 id=\"usage\">Usage</h2><div class=\"markdown\" id=\"usage-text\">").Trusted(usageHtml).Raw("</div></section>");
            }

            h.Raw("<section aria-labelledby=\"tags\"><h2 id=\"tags\">Image tags</h2>");
            if (tags.Tags.Count == 0)
            {
                h.Raw("<p>").Text(after is null ? "No images have been pushed yet." : "No more tags.").Raw("</p>");
            }
            else
            {
                TagTable(h, tags.Tags, image);
            }

            var self = "/" + Html.Path(alias) + "/" + Html.Path(name);
            Pages(h, after is not null ? self + "#tags" : null, tags.Next is { } next ? self + Html.Query(("after", next)) + "#tags" : null);
            h.Raw("</section>");
        });
    }

    /// <summary>An error page (404 unknown alias or repository, 400 a bad link, 405, 500) with the search box.</summary>
    public static string Error(string title, string message) =>
        Layout(title, GalleryQuery.None, h =>
        {
            h.Raw("<h1>").Text(title).Raw("</h1><p>").Text(message).Raw("</p>");
            h.Raw("<p><a href=\"/\">Browse all public repositories</a></p>");
        });

    private static string Layout(string title, GalleryQuery query, Action<Html> body)
    {
        var h = new Html();
        h.Raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.Raw("<title>").Text(title).Raw(" \u2013 Wharf Public Gallery</title>");
        h.Raw("<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\"").Url("href", GalleryAssets.CssPath).Raw(">");
        h.Raw("<script defer").Url("src", GalleryAssets.JsPath).Raw("></script></head><body>");
        h.Raw("<a class=\"skip\" href=\"#main\">Skip to content</a>");
        h.Raw("<header class=\"top\"><div class=\"bar\"><a class=\"brand\" href=\"/\">Wharf Public Gallery</a>");
        h.Raw("<form class=\"search\" role=\"search\" action=\"/\" method=\"get\"><label class=\"sr-only\" for=\"q\">Search public repositories</label>");
        h.Raw("<input id=\"q\" name=\"q\" type=\"search\" maxlength=\"").Number(GalleryHandler.MaxQueryChars).Raw("\" placeholder=\"Search public repositories\"").Attr("value", query.Words).Raw(">");
        if (query.Architecture is not null)
        {
            h.Raw("<input type=\"hidden\" name=\"arch\"").Attr("value", query.Architecture).Raw(">");
        }

        if (query.OperatingSystem is not null)
        {
            h.Raw("<input type=\"hidden\" name=\"os\"").Attr("value", query.OperatingSystem).Raw(">");
        }

        h.Raw("<button type=\"submit\">Search</button></form></div></header>");
        h.Raw("<main id=\"main\">");
        body(h);
        h.Raw("</main><p id=\"copy-status\" class=\"sr-only\" aria-live=\"polite\" data-echo></p>");
        h.Raw("<footer>Served by Wharf. Images here are public: anyone can pull them without credentials.</footer></body></html>");
        return h.ToString();
    }

    private static void Filters(Html h, GalleryQuery query)
    {
        h.Raw("<nav class=\"filters\" aria-label=\"Architecture\"><span class=\"muted\">Architecture:</span>");
        Filter(h, "All", query.Architecture is null, "/" + Html.Query(("q", query.Words), ("os", query.OperatingSystem)));
        foreach (var arch in GalleryBadges.Architectures)
        {
            Filter(h, arch, query.Architecture == arch, "/" + Html.Query(("q", query.Words), ("arch", arch), ("os", query.OperatingSystem)));
        }

        h.Raw("</nav><nav class=\"filters\" aria-label=\"Operating system\"><span class=\"muted\">Operating system:</span>");
        Filter(h, "All", query.OperatingSystem is null, "/" + Html.Query(("q", query.Words), ("arch", query.Architecture)));
        foreach (var os in GalleryBadges.OperatingSystems)
        {
            Filter(h, os, query.OperatingSystem == os, "/" + Html.Query(("q", query.Words), ("arch", query.Architecture), ("os", os)));
        }

        h.Raw("</nav>");
    }

    private static void Filter(Html h, string label, bool on, string href)
    {
        if (on)
        {
            h.Raw("<span class=\"on\" aria-current=\"true\">").Text(label).Raw("</span>");
        }
        else
        {
            h.Raw("<a").Url("href", href).Raw(">").Text(label).Raw("</a>");
        }
    }

    private static void Results(Html h, IReadOnlyList<PublicRepositorySummary> repositories, IReadOnlyDictionary<Core.Primitives.AccountId, PublicRegistryRecord> registries, string heading, bool showRegistry)
    {
        h.Raw("<ol class=\"results\">");
        foreach (var repository in repositories)
        {
            registries.TryGetValue(repository.Account, out var registry);
            var full = repository.Alias + "/" + repository.Name.Value;
            h.Raw("<li class=\"card\">");
            Logo(h, registry, repository.LogoSha256, full);
            h.Raw("<div><").Raw(heading).Raw("><a").Url("href", "/" + Html.Path(repository.Alias) + "/" + Html.Path(repository.Name.Value)).Raw(">").Text(full).Raw("</a></").Raw(heading).Raw(">");
            if (showRegistry && registry is { Verified: true, DisplayName: { Length: > 0 } displayName })
            {
                h.Raw("<p class=\"muted\">").Text(displayName);
                Verified(h, registry);
                h.Raw("</p>");
            }

            if (!string.IsNullOrWhiteSpace(repository.Description))
            {
                var description = repository.Description.Length > ResultDescriptionChars ? repository.Description[..ResultDescriptionChars] + "\u2026" : repository.Description;
                h.Raw("<p>").Text(description).Raw("</p>");
            }

            Badges(h, repository.Architectures, repository.OperatingSystems);
            h.Raw("</div></li>");
        }

        h.Raw("</ol>");
    }

    private static void Badges(Html h, IReadOnlyList<string> architectures, IReadOnlyList<string> operatingSystems)
    {
        var shown = GalleryBadges.Shown(GalleryBadges.OperatingSystems, operatingSystems).Concat(GalleryBadges.Shown(GalleryBadges.Architectures, architectures)).ToList();
        if (shown.Count == 0)
        {
            return;
        }

        h.Raw("<ul class=\"badges\" aria-label=\"Operating systems and architectures\">");
        foreach (var badge in shown)
        {
            h.Raw("<li>").Text(badge).Raw("</li>");
        }

        h.Raw("</ul>");
    }

    /// <summary>The logo, for verified registries only (as ECR Public's gallery).</summary>
    private static void Logo(Html h, PublicRegistryRecord? registry, string? sha256, string name)
    {
        if (registry is { Verified: true } && sha256 is { Length: 64 } && sha256.All(char.IsAsciiHexDigitLower))
        {
            h.Raw("<img class=\"logo\" width=\"48\" height=\"48\"").Url("src", "/logo/" + sha256).Attr("alt", name + " logo").Raw(">");
        }
    }

    private static void Verified(Html h, PublicRegistryRecord? registry)
    {
        if (registry is { Verified: true })
        {
            h.Raw(" <span class=\"verified\" title=\"The operator has verified this registry's publisher\">Verified</span>");
        }
    }

    private static void PullCommand(Html h, string command)
    {
        h.Raw("<div class=\"pull\"><code>").Text(command).Raw("</code><button type=\"button\" class=\"copy\" hidden").Attr("data-copy", command)
            .Attr("aria-label", "Copy \u201c" + command + "\u201d").Raw(">Copy</button></div>");
    }

    private static void TagTable(Html h, IReadOnlyList<GalleryTag> tags, string image)
    {
        h.Raw("<table class=\"tags\"><thead><tr><th scope=\"col\">Tag</th><th scope=\"col\">Platforms</th><th scope=\"col\">Size</th><th scope=\"col\">Pushed</th><th scope=\"col\">Digest</th></tr></thead><tbody>");
        foreach (var tag in tags)
        {
            var pull = "podman pull " + image + ":" + tag.Tag;
            h.Raw("<tr><td data-label=\"Tag\"><code>").Text(tag.Tag).Raw("</code> <button type=\"button\" class=\"copy\" hidden").Attr("data-copy", pull)
                .Attr("aria-label", "Copy \u201c" + pull + "\u201d").Raw(">Copy pull</button></td>");
            h.Raw("<td data-label=\"Platforms\">").Text(tag.Platforms.Count == 0 ? "\u2014" : string.Join(", ", tag.Platforms)).Raw("</td>");
            h.Raw("<td data-label=\"Size\">").Text(Size(tag.Size)).Raw("</td>");
            h.Raw("<td data-label=\"Pushed\"><time").Attr("datetime", tag.PushedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Raw(">")
                .Text(tag.PushedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)).Raw("</time></td>");
            var digest = tag.Digest.ToString();
            h.Raw("<td data-label=\"Digest\" class=\"digest\"><code").Attr("title", digest).Raw(">").Text(digest[..Math.Min(digest.Length, 19)]).Raw("</code></td></tr>");
        }

        h.Raw("</tbody></table>");
    }

    private static void Pages(Html h, string? first, string? next)
    {
        if (first is null && next is null)
        {
            return;
        }

        h.Raw("<nav class=\"pages\" aria-label=\"Pages\">");
        if (first is not null)
        {
            h.Raw("<a rel=\"first\"").Url("href", first).Raw(">First page</a>");
        }

        if (next is not null)
        {
            h.Raw("<a rel=\"next\"").Url("href", next).Raw(">Next page</a>");
        }

        h.Raw("</nav>");
    }

    /// <summary>A verified registry's display name, else its alias (ECR Public shows display names of verified registries only).</summary>
    private static string Title(PublicRegistryRecord registry, string alias) =>
        registry is { Verified: true, DisplayName: { Length: > 0 } name } ? name : alias;

    /// <summary>Bytes in decimal units, as registries and their clients report image sizes.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1000 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1000 * 1000 => (bytes / 1000.0).ToString("0.#", CultureInfo.InvariantCulture) + " kB",
        < 1000L * 1000 * 1000 => (bytes / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + " GB",
    };
}
