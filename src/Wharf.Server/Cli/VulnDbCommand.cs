using System.CommandLine;
using System.Globalization;
using Wharf.Core.Metadata;
using Wharf.Scanning.Vulnerabilities;

namespace Wharf.Server.Cli;

/// <summary><c>wharf vulndb</c>: load the vulnerability database from OSV exports, and show what it holds.</summary>
internal static class VulnDbCommand
{
    /// <summary><c>wharf vulndb import --json</c>.</summary>
    internal sealed record ImportResult(string Source, long Advisories);

    /// <summary><c>wharf vulndb status --json</c>.</summary>
    internal sealed record StatusResult(IReadOnlyList<SourceResult> Sources);

    /// <summary>One source: <c>updatedAt</c> is its newest record's modification time (null when undated).</summary>
    internal sealed record SourceResult(string Name, long AdvisoryCount, DateTimeOffset? UpdatedAt, DateTimeOffset ImportedAt);

    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "an OSV export: a zip of OSV JSON records (as osv.dev publishes per ecosystem, e.g. Debian/all.zip), a directory of *.json records, or one JSON file holding a record or an array of records" };
        var source = new Option<string?>("--source") { Description = "the source's name (default: the file's name without its extension, or its directory's for all.zip, or the directory's name)" };
        var import = new Command(
            "import",
            "Load an OSV export into the vulnerability database, replacing what the same source held before, in one transaction: a failed import leaves the previous database in service. For air-gapped installs, copy the exports in and import them; the server need not stop. Progress goes to stderr (a bar at a terminal, plain lines otherwise).")
        {
            path, source, CliOptions.Json,
        };
        import.SetAction((parse, ct) => ImportAsync(parse, parse.GetValue(path)!, parse.GetValue(source), ct));

        var status = new Command("status", "List the vulnerability database's sources: advisories, when the source last changed, and when it was imported.") { CliOptions.Json };
        status.SetAction(StatusAsync);

        var vulndb = new Command("vulndb", "The offline vulnerability database image scanning matches against (OSV format).");
        vulndb.Subcommands.Add(import);
        vulndb.Subcommands.Add(status);
        return vulndb;
    }

    private static async Task<int> ImportAsync(ParseResult parse, string path, string? source, CancellationToken cancellationToken)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            WharfCli.Fail($"'{path}' is neither a file nor a directory");
            return WharfCli.ExitInvalid;
        }

        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var store = app.Services.GetRequiredService<IMetadataStore>();
            await store.MigrateAsync(cancellationToken);
            var name = source ?? OsvImport.SourceName(path);
            try
            {
                var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
                var count = await CliProgress.RunAsync("wharf vulndb import", progress =>
                    store.Vulnerabilities.ReplaceSourceAsync(name, OsvImport.ReadAsync(path, progress, cancellationToken), now, cancellationToken));
                if (parse.GetValue(CliOptions.Json))
                {
                    CliJson.Write(new ImportResult(name, count));
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"imported {count} advisories into source '{name}'"));
                }

                return 0;
            }
            catch (Exception e) when (e is OsvImportException or InvalidDataException or IOException)
            {
                WharfCli.Fail($"import of '{path}' failed, nothing changed: {e.Message}");
                return 1;
            }
        }
    }

    private static async Task<int> StatusAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var store = app.Services.GetRequiredService<IMetadataStore>();
            await store.MigrateAsync(cancellationToken);
            var sources = await store.Vulnerabilities.ListSourcesAsync(cancellationToken);
            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(new StatusResult([.. sources.Select(s => new SourceResult(s.Name, s.AdvisoryCount, s.UpdatedAt, s.ImportedAt))]));
                return 0;
            }

            if (sources.Count == 0)
            {
                Console.WriteLine("the vulnerability database is empty: load an OSV export with 'wharf vulndb import <zip|dir|json>'");
                return 0;
            }

            var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            foreach (var s in sources)
            {
                var age = s.UpdatedAt is { } updated ? $"{(now - updated).TotalDays:0} days old" : "undated";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Name}: {s.AdvisoryCount} advisories, newest change {s.UpdatedAt:yyyy-MM-dd} ({age}), imported {s.ImportedAt:yyyy-MM-dd HH:mm}Z"));
            }

            return 0;
        }
    }
}
