using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Scanning.Vulnerabilities;

/// <summary>A record of an OSV export that could not be read: which, and why.</summary>
public sealed class OsvImportException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads an OSV export — a zip of <c>*.json</c> records (OSV publishes one per ecosystem), a directory
/// of them, or one JSON file holding a record or an array of records — as records to store, one at a
/// time. A record that is not OSV fails the import with its name, so a broken export never
/// half-replaces a source.
/// </summary>
public static class OsvImport
{
    /// <summary>The source name an export stands for: <c>Debian.zip</c> → <c>Debian</c>; <c>Debian/all.zip</c> → <c>Debian</c>; <c>GHSA-xxxx.json</c> → <c>GHSA-xxxx</c>; a directory → its name.</summary>
    public static string SourceName(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(full))
        {
            return Path.GetFileName(full);
        }

        var name = Path.GetFileNameWithoutExtension(full);
        return name.Equals("all", StringComparison.OrdinalIgnoreCase) ? Path.GetFileName(Path.GetDirectoryName(full)) ?? name : name;
    }

    /// <summary>The phase <see cref="ReadAsync(string, IProgress{WorkProgress}?, CancellationToken)"/> reports: records read of those in the export.</summary>
    public const string ReadPhase = "reading advisories";

    public static IAsyncEnumerable<AdvisoryRecord> ReadAsync(string path, CancellationToken cancellationToken = default) => ReadAsync(path, null, cancellationToken);

    /// <summary>As above, reporting each record handed on to <paramref name="progress"/>, out of the export's records.</summary>
    public static async IAsyncEnumerable<AdvisoryRecord> ReadAsync(string path, IProgress<WorkProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Directory.Exists(path))
        {
            var files = Directory.EnumerateFiles(path, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            progress?.Report(new WorkProgress(ReadPhase, 0, files.Count));
            for (var i = 0; i < files.Count; i++)
            {
                yield return Record(files[i], await File.ReadAllTextAsync(files[i], cancellationToken));
                progress?.Report(new WorkProgress(ReadPhase, i + 1, files.Count));
            }

            yield break;
        }

        await using var stream = File.OpenRead(path);
        var head = new byte[2];
        var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        stream.Position = 0;
        if (read < 2 || head[0] != (byte)'P' || head[1] != (byte)'K')
        {
            // Not a zip (whose every form starts "PK"): one record, or an array of them, as JSON.
            var records = await JsonRecordsAsync(path, stream, cancellationToken);
            progress?.Report(new WorkProgress(ReadPhase, 0, records.Count));
            for (var i = 0; i < records.Count; i++)
            {
                yield return records[i];
                progress?.Report(new WorkProgress(ReadPhase, i + 1, records.Count));
            }

            yield break;
        }

        using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
        var entries = zip.Entries.Where(e => e.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)).OrderBy(e => e.FullName, StringComparer.Ordinal).ToList();
        progress?.Report(new WorkProgress(ReadPhase, 0, entries.Count));
        for (var i = 0; i < entries.Count; i++)
        {
            await using var content = await entries[i].OpenAsync(cancellationToken);
            using var reader = new StreamReader(content);
            yield return Record(entries[i].FullName, await reader.ReadToEndAsync(cancellationToken));
            progress?.Report(new WorkProgress(ReadPhase, i + 1, entries.Count));
        }
    }

    private static async Task<List<AdvisoryRecord>> JsonRecordsAsync(string path, Stream stream, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            throw new OsvImportException($"{name} is neither a zip of OSV records nor OSV JSON (one record, or an array of records): {e.Message}", e);
        }

        using (document)
        {
            return document.RootElement.ValueKind switch
            {
                JsonValueKind.Object => [Record(name, document.RootElement.GetRawText())],
                JsonValueKind.Array => [.. document.RootElement.EnumerateArray().Select((r, i) => Record($"{name}[{i}]", r.GetRawText()))],
                _ => throw new OsvImportException($"{name} is neither a zip of OSV records nor OSV JSON (one record, or an array of records)"),
            };
        }
    }

    private static AdvisoryRecord Record(string name, string json)
    {
        try
        {
            var advisory = OsvAdvisory.Parse(json);
            return new AdvisoryRecord(advisory.Id, advisory.Modified, json, advisory.Affected.Select(a => (a.Ecosystem, a.Name)).Where(p => p.Ecosystem.Length > 0 && p.Name.Length > 0).Distinct().ToList());
        }
        catch (JsonException e)
        {
            throw new OsvImportException($"{name} is not an OSV record: {e.Message}", e);
        }
    }
}

/// <summary>Loads from the vulnerability database the advisories of an image's packages, for matching.</summary>
public static class AdvisoryLookup
{
    public static async Task<IAdvisoryIndex> LoadAsync(IVulnerabilityStore store, ImageInventory inventory, CancellationToken cancellationToken)
    {
        var advisories = new List<OsvAdvisory>();
        var keys = inventory.Packages
            .Select(p => (Package: p, Ecosystem: OsvEcosystems.For(p, inventory.Os)))
            .Where(k => k.Ecosystem is not null)
            .Select(k => (Ecosystem: k.Ecosystem!, Name: k.Package.AdvisoryName(k.Ecosystem!)))
            .Distinct();
        foreach (var key in keys)
        {
            advisories.AddRange((await store.FindAsync(key.Ecosystem, key.Name, cancellationToken)).Select(OsvAdvisory.Parse));
        }

        return new InMemoryAdvisoryIndex(advisories);
    }
}
