using System.Globalization;
using Spectre.Console;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf status</c> for people: Spectre.Console tables at a terminal, the same rows as plain aligned
/// text otherwise (piped into grep or a file, where escape codes would be noise).
/// </summary>
internal static class StatusOutput
{
    public static void Write(StatusReport report, TextWriter output, bool interactive)
    {
        var sections = Sections(report);
        if (interactive)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
            WriteTables(console, report, sections);
            return;
        }

        output.WriteLine(Version(report));
        foreach (var (title, header, rows) in sections)
        {
            output.WriteLine();
            output.WriteLine(title);
            var all = header is null ? rows : [header, .. rows];
            var widths = Enumerable.Range(0, all.Max(r => r.Length)).Select(i => all.Max(r => i < r.Length ? r[i].Length : 0)).ToArray();
            foreach (var row in all)
            {
                output.WriteLine(("  " + string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i])))).TrimEnd());
            }
        }
    }

    /// <summary>Tables with the rows of <see cref="Sections"/> (also what a test renders on a recording console).</summary>
    public static void WriteTables(IAnsiConsole console, StatusReport report, IReadOnlyList<(string Title, string[]? Header, IReadOnlyList<string[]> Rows)> sections)
    {
        console.MarkupLine($"[bold]{Markup.Escape(Version(report))}[/]");
        foreach (var (title, header, rows) in sections)
        {
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
            var columns = header ?? [.. Enumerable.Range(0, rows.Count == 0 ? 1 : rows.Max(r => r.Length)).Select(_ => "")];
            foreach (var column in columns)
            {
                table.AddColumn(Markup.Escape(column));
            }

            if (header is null)
            {
                table.HideHeaders();
            }

            foreach (var row in rows)
            {
                table.AddRow([.. row.Select(cell => Colour(cell))]);
            }

            console.Write(table);
        }
    }

    public static IReadOnlyList<(string Title, string[]? Header, IReadOnlyList<string[]> Rows)> Sections(StatusReport report)
    {
        var server = report.Server switch
        {
            { Up: true, Ready: true } s => new[] { "server", "up", s.Url ?? "" },
            { Up: true } s => ["server", "up, not ready", $"{s.Url}: {s.Problem}"],
            var s => ["server", "down", s.Problem ?? ""],
        };
        var backends = new List<string[]>
        {
            server,
            Backend("metadata", report.Metadata),
            Backend("blobs", report.Blobs),
        };

        var jobs = report.Jobs.Select(j => new[]
        {
            j.Name,
            j.LastStartedAt is { } started ? Time(started) : "not yet",
            j.LastDurationMs is { } ms ? PlainProgress.Duration(TimeSpan.FromMilliseconds(ms)) : "",
            j.LastSucceeded switch { true => "ok: " + j.LastOutcome, false => "failed: " + j.LastFailure, null => "" },
            j.NextDueAt is { } next ? Time(next) : j.IntervalSeconds is { } every ? $"every {PlainProgress.Duration(TimeSpan.FromSeconds(every))}" : "",
        }).ToList<string[]>();
        if (report.JobsProblem is { } jobsProblem)
        {
            jobs.Add(["(unknown)", jobsProblem, "", "", ""]);
        }

        IReadOnlyList<string[]> counts = report.Counts is { } c
            ?
            [
                ["repositories", Number(c.Repositories)],
                ["manifests", Number(c.Manifests)],
                ["blobs", $"{Number(c.Blobs)} ({Bytes(c.BlobBytes)})"],
                ["upload sessions in progress", Number(c.UploadsInProgress)],
                ["pending scans", Number(c.PendingScans)],
                ["pending replications", Number(c.PendingReplications)],
            ]
            : [["(unknown)", report.CountsProblem ?? ""]];

        return
        [
            ("backends", null, backends),
            ("jobs", ["job", "last run", "took", "outcome", "next due"], jobs),
            ("counts", null, counts),
        ];
    }

    private static string[] Backend(string name, BackendStatus backend) =>
        [name, backend.Healthy ? "ok" : "unreachable", $"{backend.Backend} {backend.Location}{(backend.Problem is { } p ? $": {p}" : "")}"];

    private static string Version(StatusReport report) =>
        report.Commit is { } commit ? $"wharf {report.Version} (commit {(commit.Length > 12 ? commit[..12] : commit)})" : $"wharf {report.Version} (commit unknown)";

    private static string Colour(string cell) => cell switch
    {
        "ok" or "up" => $"[green]{cell}[/]",
        "down" or "unreachable" or "up, not ready" => $"[red]{cell}[/]",
        _ when cell.StartsWith("failed:", StringComparison.Ordinal) => $"[red]{Markup.Escape(cell)}[/]",
        _ => Markup.Escape(cell),
    };

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Bytes in binary units, e.g. <c>1.5 MiB</c>.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
