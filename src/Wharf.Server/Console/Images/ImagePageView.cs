using System.Text.Encodings.Web;
using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Images;

/// <summary>
/// The image page: the header (tags, digest, types, size, times, status, scan), then an index's platforms
/// or a manifest's layers and config, then referrers and findings (<see cref="ImageFindingsView"/>).
/// Everything that came from the image is a value written through <see cref="Html"/>, so encoded.
/// </summary>
internal static class ImagePageView
{
    // Arguments shown as JSON, as the config has them, without escaping what the page encodes anyway.
    private static readonly JsonSerializerOptions Arguments = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, TypeInfoResolver = Errors.ServerJsonContext.Default };

    public static string Title(ImagePageData data) =>
        data.Summary is { Tags: [var tag, ..] } ? $"{data.Key.Name.Value}:{tag}" : $"{data.Key.Name.Value}@{ConsoleFormat.Short(data.Manifest.Digest)}";

    public static Html Render(ConsoleUser user, ImagePageData data, Html? banner, DateTimeOffset now, int findingsPage, int pageSize)
    {
        var html = new Html();
        var key = data.Key;
        html.Add($"<div class=\"page-head\"><h1>{Title(data)}</h1><div class=\"actions\">");
        html.Append(ConsoleForms.Button(user, ConsoleRoutes.Image(key, data.Manifest.Digest), "scan", "Scan now", "secondary"));
        html.Add($"<a class=\"button secondary\" href=\"{ConsoleRoutes.Repository(key)}\">Back to the repository</a></div></div>");
        if (banner is not null)
        {
            html.Append(banner);
        }

        Header(html, data, now);
        if (data.ManifestProblem is { } problem)
        {
            html.Add($"<h2>Manifest</h2><div class=\"alert warning\" role=\"status\"><p class=\"headline\">The manifest could not be read.</p><p class=\"reason\">{problem.Unreadable}</p></div>");
        }
        else if (data.View is { IsIndex: true } index)
        {
            Platforms(html, key, index);
        }
        else if (data.View is { } manifest)
        {
            Layers(html, manifest, data.Config?.View);
            Config(html, data.Config, manifest, now);
        }

        ImageFindingsView.Referrers(html, data, now);
        ImageFindingsView.Findings(html, data, now, findingsPage, pageSize);
        return html;
    }

    private static void Header(Html html, ImagePageData data, DateTimeOffset now)
    {
        var manifest = data.Manifest;
        var summary = data.Summary;
        html.Raw("<section aria-labelledby=\"details\"><h2 id=\"details\">Details</h2>");
        if (data.SummaryProblem?.Refusal is { } refusal)
        {
            html.Append(ConsoleErrors.Banner(refusal));
        }

        html.Raw("<dl class=\"facts\"><dt>Tags</dt><dd>");
        if (summary is { Tags.Count: > 0 })
        {
            html.Raw("<span class=\"tags\">");
            foreach (var tag in summary.Tags)
            {
                html.Add($"<span class=\"badge\">{tag}</span>");
            }

            html.Raw("</span>");
        }
        else
        {
            html.Raw(summary is null ? "<span class=\"muted\">not shown</span>" : "<span class=\"muted\">untagged</span>");
        }

        html.Add($"</dd><dt>Digest</dt><dd>{ConsoleFormat.Digest(manifest.Digest)}</dd>");
        html.Add($"<dt>Media type</dt><dd><code>{manifest.MediaType}</code></dd>");
        html.Add($"<dt>Artifact type</dt><dd>{Code(manifest.ArtifactType)}</dd>");
        html.Add($"<dt>Size</dt><dd>{(summary is null ? ConsoleFormat.Size(manifest.Size) + " (manifest)" : ConsoleFormat.Size(summary.Size))}</dd>");
        html.Add($"<dt>Pushed</dt><dd>{ConsoleFormat.Time(manifest.PushedAt, now)}</dd>");
        if (summary is not null)
        {
            html.Add($"<dt>Last pulled</dt><dd>{ConsoleFormat.Time(summary.LastPulledAt, now)}</dd>");
        }

        var archived = summary?.Archived ?? manifest.Archived;
        html.Add($"<dt>Status</dt><dd><span class=\"badge\">{(archived ? "Archived" : "Active")}</span></dd>");
        html.Add($"<dt>Scan status</dt><dd>{ImageFindingsView.ScanStatus(data.Findings.Scan ?? summary?.Scan, data.Findings.Problem is not null)}</dd>");
        if (manifest.Subject is { } subject)
        {
            html.Add($"<dt>Refers to</dt><dd><a href=\"{ConsoleRoutes.Image(data.Key, subject)}\">{ConsoleFormat.Short(subject)}</a> <span class=\"muted\">(this is a referrer: a signature, SBOM or attestation of that image)</span></dd>");
        }

        html.Raw("</dl></section>");
    }

    private static void Platforms(Html html, RepositoryKey key, ManifestView index)
    {
        html.Raw("<section aria-labelledby=\"platforms\"><h2 id=\"platforms\">Platforms</h2>");
        if (index.Entries.Count == 0)
        {
            html.Raw("<p class=\"empty\">This index lists no images.</p></section>");
            return;
        }

        html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">The images this index lists, one per platform</caption><thead><tr>");
        html.Raw("<th scope=\"col\">Platform</th><th scope=\"col\">Digest</th><th scope=\"col\" class=\"num\">Manifest size</th><th scope=\"col\">Media type</th></tr></thead><tbody>");
        foreach (var entry in index.Entries)
        {
            html.Add($"<tr><td data-label=\"Platform\">{entry.Platform?.ToString() ?? (entry.ArtifactType is { } type ? ArtifactKinds.Describe(type) : "unknown")}</td><td data-label=\"Digest\">");
            if (entry.Digest is { } digest)
            {
                html.Add($"<a href=\"{ConsoleRoutes.Image(key, digest)}\"><code title=\"{digest.ToString()}\">{ConsoleFormat.Short(digest)}</code></a> {ConsoleFormat.CopyButton(digest.ToString(), "Copy digest")}");
            }

            html.Add($"</td><td data-label=\"Manifest size\" class=\"num\">{Size(entry.Size)}</td><td data-label=\"Media type\">{Code(entry.MediaType)}</td></tr>");
        }

        html.Raw("</tbody></table></div>");
        if (index.Truncated)
        {
            html.Add($"<p class=\"hint\">Showing the first {index.Entries.Count} of {index.Total} entries.</p>");
        }

        html.Raw("</section>");
    }

    private static void Layers(Html html, ManifestView manifest, ImageConfigView? config)
    {
        html.Raw("<section aria-labelledby=\"layers\"><h2 id=\"layers\">Layers</h2>");
        if (manifest.Entries.Count == 0)
        {
            html.Raw("<p class=\"empty\">This manifest has no layers.</p></section>");
            return;
        }

        html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">The image's layers, base first, with the history line that created each</caption><thead><tr>");
        html.Raw("<th scope=\"col\" class=\"num\">#</th><th scope=\"col\">Digest</th><th scope=\"col\">Media type</th><th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Created by</th></tr></thead><tbody>");
        foreach (var layer in manifest.Entries)
        {
            var createdBy = config is not null && layer.Position - 1 < config.LayerCreatedBy.Count ? config.LayerCreatedBy[layer.Position - 1] : null;
            html.Add($"<tr id=\"layer-{layer.Position}\"><td data-label=\"#\" class=\"num\">{layer.Position}</td><td data-label=\"Digest\">");
            if (layer.Digest is { } digest)
            {
                html.Append(ConsoleFormat.Digest(digest));
            }

            html.Add($"</td><td data-label=\"Media type\">{Code(layer.MediaType)}</td><td data-label=\"Size\" class=\"num\">{Size(layer.Size)}</td><td data-label=\"Created by\">");
            html.Append(string.IsNullOrEmpty(createdBy) ? new Html().Raw("<span class=\"muted\">—</span>") : new Html().Add($"<code class=\"history\">{Shorten(createdBy, 300)}</code>"));
            html.Raw("</td></tr>");
        }

        html.Raw("</tbody></table></div>");
        if (manifest.Truncated)
        {
            html.Add($"<p class=\"hint\">Showing the first {manifest.Entries.Count} of {manifest.Total} layers.</p>");
        }

        html.Raw("</section>");
    }

    private static void Config(Html html, ConfigSection? section, ManifestView manifest, DateTimeOffset now)
    {
        html.Raw("<section aria-labelledby=\"config\"><h2 id=\"config\">Configuration</h2>");
        if (section is null)
        {
            html.Add($"<p class=\"muted\">This artifact's config ({manifest.Config?.MediaType ?? "none"}) is not a container image's, so there is nothing to show here.</p></section>");
            return;
        }

        if (section.Problem?.Refusal is { } refusal)
        {
            html.Append(ConsoleErrors.Banner(refusal)).Raw("</section>");
            return;
        }

        if (section.TooLarge)
        {
            html.Add($"<div class=\"alert warning\" role=\"status\"><p class=\"headline\">The image's configuration is not shown.</p><p class=\"reason\">It is {ConsoleFormat.Size(section.Blob!.Size)}; the console reads configurations of at most {ConsoleFormat.Size(ImageDocuments.MaxConfigBytes)}, or it could not be read in full.</p></div></section>");
            return;
        }

        if (section.View is not { } config)
        {
            html.Add($"<div class=\"alert warning\" role=\"status\"><p class=\"headline\">The image's configuration could not be read.</p><p class=\"reason\">{section.Problem?.Unreadable}</p></div></section>");
            return;
        }

        html.Raw("<dl class=\"facts\">");
        var created = ImageDocuments.Time(config.Created);
        html.Add($"<dt>Created</dt><dd>{(created is { } at ? ConsoleFormat.Time(at, now) : Text(config.Created))}</dd>");
        html.Add($"<dt>Platform</dt><dd>{config.Platform.ToString()}</dd>");
        html.Add($"<dt>Entrypoint</dt><dd>{Command(config.Entrypoint)}</dd>");
        html.Add($"<dt>Command</dt><dd>{Command(config.Cmd)}</dd>");
        html.Add($"<dt>Working directory</dt><dd>{Code(config.WorkingDir)}</dd>");
        html.Add($"<dt>User</dt><dd>{Code(config.User)}</dd>");
        html.Raw("<dt>Exposed ports</dt><dd>");
        if (config.ExposedPorts.Count == 0)
        {
            html.Raw("<span class=\"muted\">none</span>");
        }
        else
        {
            html.Raw("<span class=\"tags\">");
            foreach (var port in config.ExposedPorts)
            {
                html.Add($"<span class=\"badge\">{port}</span>");
            }

            html.Add($"</span>{Truncated(config.ExposedPorts.Count, config.ExposedPortsTotal, "ports")}");
        }

        html.Raw("</dd></dl>");

        html.Raw("<h3 id=\"env\">Environment</h3>");
        if (config.Env.Count == 0)
        {
            html.Raw("<p class=\"muted\">No environment variables.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Environment variables</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Value</th></tr></thead><tbody>");
            foreach (var variable in config.Env)
            {
                var equals = variable.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = equals < 0 ? (variable, string.Empty) : (variable[..equals], variable[(equals + 1)..]);
                html.Add($"<tr><td data-label=\"Name\"><code>{name}</code></td><td data-label=\"Value\"><code>{value}</code></td></tr>");
            }

            html.Add($"</tbody></table></div>{Truncated(config.Env.Count, config.EnvTotal, "variables")}");
        }

        html.Raw("<h3 id=\"labels\">Labels</h3>");
        if (config.Labels.Count == 0)
        {
            html.Raw("<p class=\"muted\">No labels.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Labels</caption><thead><tr><th scope=\"col\">Label</th><th scope=\"col\">Value</th></tr></thead><tbody>");
            foreach (var (label, value) in config.Labels)
            {
                html.Add($"<tr><td data-label=\"Label\"><code>{label}</code></td><td data-label=\"Value\">{value}</td></tr>");
            }

            html.Add($"</tbody></table></div>{Truncated(config.Labels.Count, config.LabelsTotal, "labels")}");
        }

        html.Raw("<h3 id=\"history\">History</h3>");
        if (config.History.Count == 0)
        {
            html.Raw("<p class=\"muted\">No history.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">How the image was built, oldest step first</caption><thead><tr><th scope=\"col\">Created by</th><th scope=\"col\">Created</th><th scope=\"col\">Layer</th></tr></thead><tbody>");
            foreach (var line in config.History)
            {
                var lineCreated = ImageDocuments.Time(line.Created);
                html.Add($"<tr><td data-label=\"Created by\"><code class=\"history\">{line.CreatedBy ?? line.Comment ?? string.Empty}</code></td><td data-label=\"Created\">{(lineCreated is { } time ? ConsoleFormat.Time(time, now) : Text(line.Created))}</td><td data-label=\"Layer\">{(line.EmptyLayer ? "empty (no layer)" : "layer")}</td></tr>");
            }

            html.Add($"</tbody></table></div>{Truncated(config.History.Count, config.HistoryTotal, "history lines")}");
        }

        html.Raw("</section>");
    }

    private static Html Command(IReadOnlyList<string>? arguments) =>
        arguments is null ? new Html().Raw("<span class=\"muted\">none</span>") : new Html().Add($"<code>{JsonSerializer.Serialize(arguments, Arguments.TypeInfo<IReadOnlyList<string>>())}</code>");

    private static Html Code(string? value) =>
        string.IsNullOrEmpty(value) ? new Html().Raw("<span class=\"muted\">none</span>") : new Html().Add($"<code>{value}</code>");

    private static Html Text(string? value) =>
        string.IsNullOrEmpty(value) ? new Html().Raw("<span class=\"muted\">unknown</span>") : new Html().Add($"{value}");

    private static string Size(long? bytes) => bytes is { } b ? ConsoleFormat.Size(b) : "unknown";

    private static Html Truncated(int shown, int total, string what) =>
        shown < total ? new Html().Add($"<p class=\"hint\">Showing the first {shown} of {total} {what}.</p>") : new Html();

    public static string Shorten(string text, int length) => text.Length <= length ? text : string.Concat(text.AsSpan(0, length), "…");
}
