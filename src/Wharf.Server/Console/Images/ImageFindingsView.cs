using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Images;

/// <summary>The image page's referrers (signatures, SBOMs, attestations) and its scan findings.</summary>
internal static class ImageFindingsView
{
    /// <summary>Referrers shown on the page (the API lists the rest with <c>ListImageReferrers</c>).</summary>
    public const int MaxReferrers = 100;

    private const int MaxDescription = 400;

    /// <summary>The scan's status in words, with its severity counts when it completed.</summary>
    public static Html ScanStatus(ImageScanRecord? scan, bool refused)
    {
        var html = new Html();
        if (scan is null)
        {
            return html.Raw(refused ? "<span class=\"muted\">not shown</span>" : "<span class=\"muted\">not scanned</span>");
        }

        html.Add($"<span class=\"badge\">{scan.Status switch
        {
            ScanStatuses.Complete => "Complete",
            ScanStatuses.InProgress => "In progress",
            ScanStatuses.Failed => "Failed",
            ScanStatuses.Unsupported => "Unsupported image",
            _ => scan.Status,
        }}</span>");
        if (scan.Status == ScanStatuses.Complete)
        {
            html.Raw(" ").Append(Counts(scan.SeverityCounts));
        }
        else if (scan.Description is { Length: > 0 } description)
        {
            html.Add($" <span class=\"muted\">{description}</span>");
        }

        return html;
    }

    public static void Referrers(Html html, ImagePageData data, DateTimeOffset now)
    {
        html.Raw("<section aria-labelledby=\"referrers\"><h2 id=\"referrers\">Referrers</h2><p class=\"hint\">Signatures, SBOMs and attestations that name this image as their subject.</p>");
        if (data.ReferrersProblem?.Refusal is { } refusal)
        {
            html.Append(ConsoleErrors.Banner(refusal)).Raw("</section>");
            return;
        }

        if (data.Referrers.Count == 0)
        {
            html.Raw("<p class=\"empty\">Nothing refers to this image.</p></section>");
            return;
        }

        html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Artifacts that refer to this image</caption><thead><tr>");
        html.Raw("<th scope=\"col\">Kind</th><th scope=\"col\">Digest</th><th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Created</th><th scope=\"col\">Status</th></tr></thead><tbody>");
        foreach (var referrer in data.Referrers.Take(MaxReferrers))
        {
            var annotations = ImageDocuments.Annotations(referrer.AnnotationsJson);
            var created = annotations.TryGetValue("org.opencontainers.image.created", out var text) ? text : null;
            var at = ImageDocuments.Time(created);
            html.Add($"<tr><td data-label=\"Kind\">{ArtifactKinds.Describe(referrer.ArtifactType)}");
            if (referrer.ArtifactType is { } type && ArtifactKinds.Describe(type) != type)
            {
                html.Add($"<br><code class=\"muted\">{type}</code>");
            }

            html.Add($"</td><td data-label=\"Digest\"><a href=\"{ConsoleRoutes.Image(data.Key, referrer.Digest)}\"><code title=\"{referrer.Digest.ToString()}\">{ConsoleFormat.Short(referrer.Digest)}</code></a> {ConsoleFormat.CopyButton(referrer.Digest.ToString(), "Copy digest")}</td>");
            html.Add($"<td data-label=\"Size\" class=\"num\">{ConsoleFormat.Size(referrer.Size)}</td><td data-label=\"Created\">");
            html.Append(at is { } time ? ConsoleFormat.Time(time, now) : created is null ? new Html().Raw("<span class=\"muted\">not recorded</span>") : new Html().Add($"{created}"));
            html.Add($"</td><td data-label=\"Status\">{(referrer.Archived ? "Archived" : "Active")}</td></tr>");
        }

        html.Raw("</tbody></table></div>");
        if (data.Referrers.Count > MaxReferrers)
        {
            html.Add($"<p class=\"hint\">Showing the first {MaxReferrers} of {data.Referrers.Count} referrers; <code>aws ecr list-image-referrers</code> lists them all.</p>");
        }

        html.Raw("</section>");
    }

    public static void Findings(Html html, ImagePageData data, DateTimeOffset now, int page, int pageSize)
    {
        var section = data.Findings;
        html.Raw("<section aria-labelledby=\"findings\"><h2 id=\"findings\">Vulnerabilities</h2>");
        if (section.Problem?.Refusal is { } refusal)
        {
            html.Append(ConsoleErrors.Banner(refusal)).Raw("</section>");
            return;
        }

        if (section.Scan is not { } scan)
        {
            html.Raw("<p class=\"empty\">This image has not been scanned. <strong>Scan now</strong> scans it with the registry's vulnerability database.</p></section>");
            return;
        }

        html.Add($"<p>Scan: {ScanStatus(scan, false)}");
        if (scan.CompletedAt is { } completed)
        {
            html.Add($" · completed {ConsoleFormat.Time(completed, now)}");
        }

        if (scan.SourceUpdatedAt is { } updated)
        {
            html.Add($" · vulnerability database updated {ConsoleFormat.Time(updated, now)}");
        }

        html.Raw("</p>");
        if (scan.Status == ScanStatuses.InProgress)
        {
            html.Raw("<p class=\"hint\">The scan is running; reload the page to see its findings.</p></section>");
            return;
        }

        var findings = section.Findings;
        if (findings.Count == 0)
        {
            html.Raw(scan.Status == ScanStatuses.Complete ? "<p class=\"empty\">No vulnerabilities found.</p></section>" : "</section>");
            return;
        }

        var pages = (findings.Count + pageSize - 1) / pageSize;
        page = Math.Min(page, pages);
        var layers = LayerPositions(data.View);
        var platforms = findings.Any(f => f.Platform is not null);
        html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Vulnerabilities found, most severe first</caption><thead><tr>");
        html.Raw("<th scope=\"col\">Severity</th><th scope=\"col\">Vulnerability</th><th scope=\"col\">Package</th><th scope=\"col\">Fixed in</th><th scope=\"col\">Layer</th>");
        if (platforms)
        {
            html.Raw("<th scope=\"col\">Platform</th>");
        }

        html.Raw("<th scope=\"col\">Description</th></tr></thead><tbody>");
        foreach (var finding in findings.Skip((page - 1) * pageSize).Take(pageSize))
        {
            html.Add($"<tr><td data-label=\"Severity\"><span class=\"badge sev {Severities.CssClass(finding.Severity)}\">{Severities.Label(finding.Severity)}</span></td><td data-label=\"Vulnerability\">");
            if (WebLink(finding.Uri) is { } uri)
            {
                html.Add($"<a href=\"{uri}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">{finding.Name}</a>");
            }
            else
            {
                html.Add($"{finding.Name}");
            }

            if (finding.AdvisoryId is { } advisory && advisory != finding.Name)
            {
                html.Add($" <span class=\"muted\">({advisory})</span>");
            }

            html.Add($"</td><td data-label=\"Package\"><code>{finding.Package}</code> <span class=\"muted\">{finding.Version}</span></td>");
            html.Add($"<td data-label=\"Fixed in\">{(finding.FixedInVersion is { } fixedIn ? new Html().Add($"<code>{fixedIn}</code>") : new Html().Raw("<span class=\"muted\">no fix yet</span>"))}</td>");
            html.Add($"<td data-label=\"Layer\">{Layer(finding, layers)}</td>");
            if (platforms)
            {
                html.Add($"<td data-label=\"Platform\">{finding.Platform ?? string.Empty}</td>");
            }

            html.Add($"<td data-label=\"Description\">{ImagePageView.Shorten(finding.Description ?? string.Empty, MaxDescription)}</td></tr>");
        }

        html.Raw("</tbody></table></div>");
        if (pages > 1)
        {
            var self = ConsoleRoutes.Image(data.Key, data.Manifest.Digest);
            string Page(int n) => self + Html.Query(("page", n.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "#findings";
            html.Append(ConsoleFormat.Pages(
                "Findings pages",
                page > 1 ? (Page(page - 1), "Previous") : null,
                page < pages ? (Page(page + 1), "Next") : null,
                $"Page {page} of {pages} ({findings.Count} findings)",
                backIsPrevious: true));
        }

        html.Raw("</section>");
    }

    private static Html Counts(IReadOnlyDictionary<string, int> counts)
    {
        var html = new Html();
        var any = false;
        html.Raw("<span class=\"tags inline\">");
        foreach (var (severity, count) in counts.Where(c => c.Value > 0).OrderBy(c => Severities.Rank(c.Key)))
        {
            html.Add($"<span class=\"badge sev {Severities.CssClass(severity)}\">{count} {Severities.Label(severity).ToLowerInvariant()}</span>");
            any = true;
        }

        if (!any)
        {
            html.Raw("<span class=\"muted\">no vulnerabilities</span>");
        }

        return html.Raw("</span>");
    }

    // The layer a finding came from: its position in this manifest (a link to its row) or, for an index's child, its digest.
    private static Html Layer(ScanFinding finding, Dictionary<string, int> layers)
    {
        if (string.IsNullOrEmpty(finding.LayerDigest))
        {
            return new Html().Raw("<span class=\"muted\">unknown</span>");
        }

        var code = Digest.TryParse(finding.LayerDigest, out var digest) ? ConsoleFormat.Short(digest) : finding.LayerDigest;
        return layers.TryGetValue(finding.LayerDigest, out var position)
            ? new Html().Add($"<a href=\"#layer-{position}\">Layer {position}</a> <code title=\"{finding.LayerDigest}\">{code}</code>")
            : new Html().Add($"<code title=\"{finding.LayerDigest}\">{code}</code>");
    }

    private static Dictionary<string, int> LayerPositions(ManifestView? view)
    {
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        if (view is { IsIndex: false })
        {
            foreach (var layer in view.Entries)
            {
                if (layer.Digest is { } digest)
                {
                    positions.TryAdd(digest.ToString(), layer.Position);
                }
            }
        }

        return positions;
    }

    // Only web links become links: a javascript:, data: or relative "URI" from an advisory stays text.
    private static string? WebLink(string? uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttps || parsed.Scheme == Uri.UriSchemeHttp) ? parsed.AbsoluteUri : null;
}
