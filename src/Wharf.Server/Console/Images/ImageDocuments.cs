using System.Globalization;
using System.Text.Json;
using Wharf.Core.Primitives;

namespace Wharf.Server.WebConsole.Images;

/// <summary>An index entry's platform (<c>os/architecture/variant</c>).</summary>
internal sealed record PlatformView(string? Os, string? Architecture, string? Variant, string? OsVersion)
{
    public override string ToString() =>
        string.Join('/', new[] { Os, Architecture, Variant }.Where(p => !string.IsNullOrEmpty(p))) is { Length: > 0 } text ? text : "unknown";
}

/// <summary>A descriptor of a manifest: the config, a layer or an index's entry (with its platform).</summary>
internal sealed record DescriptorView(int Position, string? MediaType, Digest? Digest, long? Size, PlatformView? Platform, string? ArtifactType);

/// <summary>A manifest or index as the image page shows it: the config and layers, or the entries.</summary>
internal sealed record ManifestView(bool IsIndex, DescriptorView? Config, IReadOnlyList<DescriptorView> Entries, int Total)
{
    public bool Truncated => Total > Entries.Count;
}

/// <summary>One line of an image's history.</summary>
internal sealed record HistoryView(string? CreatedBy, string? Created, bool EmptyLayer, string? Comment);

/// <summary>
/// What the image page shows of an image's config. Each list is cut at its cap (the totals say how many
/// there were); <see cref="LayerCreatedBy"/> is the history line of each layer, in order (history lines
/// that made no layer skipped), so each layer shows what made it.
/// </summary>
internal sealed record ImageConfigView(
    string? Created,
    PlatformView Platform,
    IReadOnlyList<string> Env,
    int EnvTotal,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Cmd,
    string? WorkingDir,
    string? User,
    IReadOnlyList<string> ExposedPorts,
    int ExposedPortsTotal,
    IReadOnlyList<(string Key, string Value)> Labels,
    int LabelsTotal,
    IReadOnlyList<HistoryView> History,
    int HistoryTotal,
    IReadOnlyList<string?> LayerCreatedBy);

/// <summary>A document that is not what it should be (malformed JSON, too deep, the wrong shapes).</summary>
internal sealed class UnreadableDocumentException(string message) : Exception(message);

/// <summary>
/// Reads a manifest and an image config — bytes someone pushed, so untrusted — for display: a bounded
/// depth, caps on every list and string, and any malformation turned into <see cref="UnreadableDocumentException"/>
/// (the page then says the document could not be read rather than failing).
/// </summary>
internal static class ImageDocuments
{
    /// <summary>The largest config the page reads (configs of real images are a few KiB).</summary>
    public const int MaxConfigBytes = 4 * 1024 * 1024;

    public const int MaxEntries = 500;
    public const int MaxEnv = 200;
    public const int MaxLabels = 200;
    public const int MaxHistory = 300;
    public const int MaxPorts = 100;
    public const int MaxArguments = 100;

    /// <summary>Longer strings are cut (with an ellipsis): nothing legitimate in a config needs more on a page.</summary>
    public const int MaxString = 4096;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32 };

    public static ManifestView ReadManifest(ReadOnlyMemory<byte> content, string mediaType) => Read(content, root =>
    {
        var isIndex = MediaTypes.IsIndex(mediaType);
        var entries = new List<DescriptorView>();
        var total = 0;
        if (root.TryGetProperty(isIndex ? "manifests" : "layers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in list.EnumerateArray())
            {
                total++;
                if (entries.Count < MaxEntries && entry.ValueKind == JsonValueKind.Object)
                {
                    entries.Add(Descriptor(entry, total, isIndex));
                }
            }
        }

        var config = !isIndex && root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? Descriptor(c, 0, false) : null;
        return new ManifestView(isIndex, config, entries, total);
    });

    public static ImageConfigView ReadConfig(ReadOnlyMemory<byte> content) => Read(content, root =>
    {
        var config = Object(root, "config") ?? Object(root, "container_config");
        var env = Strings(config, "Env", MaxEnv, out var envTotal);
        var ports = new List<string>();
        var portsTotal = 0;
        if (config is { } cfg && Object(cfg, "ExposedPorts") is { } exposed)
        {
            foreach (var port in exposed.EnumerateObject())
            {
                portsTotal++;
                if (ports.Count < MaxPorts)
                {
                    ports.Add(Cut(port.Name));
                }
            }
        }

        var labels = new List<(string, string)>();
        var labelsTotal = 0;
        if (config is { } cfg2 && Object(cfg2, "Labels") is { } labelObject)
        {
            foreach (var label in labelObject.EnumerateObject())
            {
                labelsTotal++;
                if (labels.Count < MaxLabels)
                {
                    labels.Add((Cut(label.Name), Cut(label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString() : label.Value.GetRawText())));
                }
            }
        }

        var history = new List<HistoryView>();
        var layerCreatedBy = new List<string?>();
        var historyTotal = 0;
        if (root.TryGetProperty("history", out var lines) && lines.ValueKind == JsonValueKind.Array)
        {
            foreach (var line in lines.EnumerateArray())
            {
                historyTotal++;
                if (line.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var view = new HistoryView(String(line, "created_by"), String(line, "created"), line.TryGetProperty("empty_layer", out var empty) && empty.ValueKind == JsonValueKind.True, String(line, "comment"));
                if (history.Count < MaxHistory)
                {
                    history.Add(view);
                }

                if (!view.EmptyLayer && layerCreatedBy.Count < MaxEntries)
                {
                    layerCreatedBy.Add(view.CreatedBy);
                }
            }
        }

        return new ImageConfigView(
            String(root, "created"),
            new PlatformView(String(root, "os"), String(root, "architecture"), String(root, "variant"), String(root, "os.version")),
            env,
            envTotal,
            config is { } e && e.TryGetProperty("Entrypoint", out var entrypoint) && entrypoint.ValueKind == JsonValueKind.Array ? Strings(config, "Entrypoint", MaxArguments, out _) : null,
            config is { } m && m.TryGetProperty("Cmd", out var cmd) && cmd.ValueKind == JsonValueKind.Array ? Strings(config, "Cmd", MaxArguments, out _) : null,
            config is { } w ? String(w, "WorkingDir") : null,
            config is { } u ? String(u, "User") : null,
            ports,
            portsTotal,
            labels,
            labelsTotal,
            history,
            historyTotal,
            layerCreatedBy);
    });

    /// <summary>A manifest's <c>annotations</c> (a referrer's), at most <paramref name="max"/>, or none when malformed.</summary>
    public static IReadOnlyDictionary<string, string> Annotations(string? json, int max = 50)
    {
        if (json is null)
        {
            return new Dictionary<string, string>();
        }

        try
        {
            return Read(System.Text.Encoding.UTF8.GetBytes(json), root => root.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String)
                .Take(max)
                .GroupBy(p => p.Name, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => Cut(g.First().Value.GetString()), StringComparer.Ordinal));
        }
        catch (UnreadableDocumentException)
        {
            return new Dictionary<string, string>();
        }
    }

    /// <summary>A time as the config gives it (RFC 3339), or null when it is not one.</summary>
    public static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static T Read<T>(ReadOnlyMemory<byte> content, Func<JsonElement, T> read)
    {
        try
        {
            using var document = JsonDocument.Parse(content, Options);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? read(document.RootElement)
                : throw new UnreadableDocumentException("the document is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new UnreadableDocumentException("the document is not well-formed JSON: " + e.Message);
        }
        catch (InvalidOperationException)
        {
            // A string that is not valid Unicode, or a value of the wrong kind where a shape was expected.
            throw new UnreadableDocumentException("the document has a value that cannot be read");
        }
    }

    private static DescriptorView Descriptor(JsonElement element, int position, bool withPlatform)
    {
        var digest = Digest.TryParse(String(element, "digest"), out var parsed) ? parsed : (Digest?)null;
        var size = element.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n) ? n : (long?)null;
        PlatformView? platform = null;
        if (withPlatform && Object(element, "platform") is { } p)
        {
            platform = new PlatformView(String(p, "os"), String(p, "architecture"), String(p, "variant"), String(p, "os.version"));
        }

        return new DescriptorView(position, String(element, "mediaType"), digest, size, platform, String(element, "artifactType"));
    }

    private static JsonElement? Object(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Cut(value.GetString()) : null;

    private static List<string> Strings(JsonElement? parent, string name, int max, out int total)
    {
        var list = new List<string>();
        total = 0;
        if (parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                total++;
                if (list.Count < max)
                {
                    list.Add(Cut(item.ValueKind == JsonValueKind.String ? item.GetString() : item.GetRawText()));
                }
            }
        }

        return list;
    }

    private static string Cut(string? text) =>
        text is null ? string.Empty : text.Length <= MaxString ? text : string.Concat(text.AsSpan(0, MaxString), "…");
}
