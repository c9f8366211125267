using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Wharf.Scanning.Layers;

namespace Wharf.Scanning.Packages;

/// <summary>
/// Language packages from the files their tools leave: npm (<c>package-lock.json</c>, installed
/// <c>node_modules/*/package.json</c>), Python (<c>*.dist-info/METADATA</c>, <c>poetry.lock</c>,
/// <c>requirements.txt</c> pins), NuGet (<c>*.deps.json</c>, <c>packages.lock.json</c>) and Cargo
/// (<c>Cargo.lock</c>). Each is named by its OSV ecosystem. A file that does not parse adds nothing.
/// </summary>
public static partial class LanguagePackages
{
    public static bool Wanted(string path)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        return name is "package-lock.json" or "poetry.lock" or "requirements.txt" or "packages.lock.json" or "Cargo.lock"
            || name.EndsWith(".deps.json", StringComparison.Ordinal)
            || (name == "METADATA" && path.Contains(".dist-info/", StringComparison.Ordinal))
            || (name == "package.json" && NodeModule().IsMatch(path));
    }

    public static IEnumerable<InstalledPackage> Read(ImageFiles files) =>
        files.Files.SelectMany(f =>
        {
            try
            {
                return ReadOne(f).Distinct().ToList();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                return [];
            }
        });

    private static IEnumerable<InstalledPackage> ReadOne(ImageFile file)
    {
        var name = file.Path[(file.Path.LastIndexOf('/') + 1)..];
        InstalledPackage Package(string manager, string package, string version) => new(manager, package, version, null, null, file.Path, file.LayerDigest);
        if (file.Extracted)
        {
            return BinaryPackages.Read(file.Content) is { } kept ? kept.Packages.Select(p => Package(kept.Ecosystem, p.Name, p.Version)) : [];
        }

        var text = Encoding.UTF8.GetString(file.Content);
        switch (name)
        {
            case "package-lock.json":
                return NpmLock(text).Select(p => Package("npm", p.Name, p.Version));
            case "package.json":
                using (var json = JsonDocument.Parse(text))
                {
                    return json.RootElement.TryGetProperty("name", out var n) && json.RootElement.TryGetProperty("version", out var v) && n.GetString() is { } pn && v.GetString() is { } pv
                        ? [Package("npm", pn, pv)]
                        : [];
                }

            case "METADATA":
                var metadata = text.Split('\n').TakeWhile(l => l.Trim().Length > 0).Select(l => l.Split(':', 2)).Where(p => p.Length == 2).GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
                return metadata.TryGetValue("Name", out var pyName) && metadata.TryGetValue("Version", out var pyVersion) ? [Package("PyPI", pyName, pyVersion)] : [];
            case "poetry.lock":
            case "Cargo.lock":
                return TomlPackages(text).Select(p => Package(name == "Cargo.lock" ? "crates.io" : "PyPI", p.Name, p.Version));
            case "requirements.txt":
                return text.Split('\n').Select(l => Pin().Match(l.Split('#')[0].Trim())).Where(m => m.Success).Select(m => Package("PyPI", m.Groups[1].Value, m.Groups[2].Value));
            case "packages.lock.json":
                return NuGetLock(text).Select(p => Package("NuGet", p.Name, p.Version));
            default:
                return DepsJson(text).Select(p => Package("NuGet", p.Name, p.Version));
        }
    }

    // lockfileVersion 2 and 3 list "packages" by install path; version 1 nests "dependencies".
    private static List<(string Name, string Version)> NpmLock(string text)
    {
        using var json = JsonDocument.Parse(text);
        var results = new List<(string Name, string Version)>();
        if (json.RootElement.TryGetProperty("packages", out var packages))
        {
            foreach (var p in packages.EnumerateObject())
            {
                var at = p.Name.LastIndexOf("node_modules/", StringComparison.Ordinal);
                if (at >= 0 && p.Value.TryGetProperty("version", out var v) && v.GetString() is { } version && !p.Value.TryGetProperty("link", out _))
                {
                    results.Add((p.Value.TryGetProperty("name", out var n) && n.GetString() is { } alias ? alias : p.Name[(at + "node_modules/".Length)..], version));
                }
            }
        }
        else if (json.RootElement.TryGetProperty("dependencies", out var dependencies))
        {
            void Walk(JsonElement deps)
            {
                foreach (var d in deps.EnumerateObject())
                {
                    if (d.Value.TryGetProperty("version", out var v) && v.GetString() is { } version)
                    {
                        results.Add((d.Name, version));
                    }

                    if (d.Value.TryGetProperty("dependencies", out var nested))
                    {
                        Walk(nested);
                    }
                }
            }

            Walk(dependencies);
        }

        return results;
    }

    // [[package]] tables with name = "…" and version = "…" (poetry.lock, Cargo.lock).
    private static IEnumerable<(string Name, string Version)> TomlPackages(string text)
    {
        string? name = null, version = null;
        foreach (var raw in text.Split('\n').Append("[[end]]"))
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                if (name is not null && version is not null)
                {
                    yield return (name, version);
                }

                (name, version) = (null, null);
                if (line != "[[package]]")
                {
                    continue;
                }
            }

            var m = TomlString().Match(line);
            if (m.Success && m.Groups[1].Value == "name")
            {
                name ??= m.Groups[2].Value;
            }
            else if (m.Success && m.Groups[1].Value == "version")
            {
                version ??= m.Groups[2].Value;
            }
        }
    }

    private static List<(string Name, string Version)> NuGetLock(string text)
    {
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("dependencies").EnumerateObject()
            .SelectMany(framework => framework.Value.EnumerateObject())
            .Where(d => d.Value.TryGetProperty("resolved", out _) && (!d.Value.TryGetProperty("type", out var t) || t.GetString() != "Project"))
            .Select(d => (d.Name, d.Value.GetProperty("resolved").GetString()!))
            .ToList();
    }

    private static List<(string Name, string Version)> DepsJson(string text)
    {
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.TryGetProperty("type", out var t) && t.GetString() == "package" && l.Name.Contains('/', StringComparison.Ordinal))
            .Select(l => (l.Name[..l.Name.IndexOf('/', StringComparison.Ordinal)], l.Name[(l.Name.IndexOf('/', StringComparison.Ordinal) + 1)..]))
            .ToList();
    }

    [GeneratedRegex(@"(^|/)node_modules/(@[^/]+/)?[^/]+/package\.json$", RegexOptions.CultureInvariant)]
    private static partial Regex NodeModule();

    [GeneratedRegex(@"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*(?:;.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pin();

    [GeneratedRegex("^(name|version)\\s*=\\s*\"([^\"]*)\"", RegexOptions.CultureInvariant)]
    private static partial Regex TomlString();
}
