using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Relational;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf migrate</c>: moves an embedded install (SQLite and its blob store) to a cluster's PostgreSQL
/// and blob store, which are the settings and flags of the command itself, as for <c>wharf serve</c>.
/// Blobs go first, skipping those already there, then every table in one transaction, then a check
/// of both. A run that fails part-way leaves the destination database empty, so it is simply run again
/// (the blobs already copied are skipped).
/// </summary>
internal static class MigrateCommand
{
    /// <summary>The copy ran but the destination does not match the source.</summary>
    public const int ExitMismatch = 1;

    private static readonly Option<string?> From = new("--from")
    {
        Description = "Data directory of the embedded install to move (its wharf.db, blobs/ and master.key). Stop its server first.",
        HelpName = "dir",
    };

    private static readonly Option<string?> FromConfig = new("--from-config")
    {
        Description = "The embedded install's settings file, when it keeps its database, blobs or master key elsewhere than under its data directory (Metadata:ConnectionString, Storage:Path, Identity:MasterKeyFile).",
        HelpName = "file",
    };

    private static readonly Option<bool> Overwrite = new("--overwrite")
    {
        Description = "Replace whatever the destination database holds (every Wharf table is emptied, in the same transaction as the copy). Without it, a destination that holds any row is refused.",
    };

    private static readonly Option<bool> Deep = new("--deep")
    {
        Description = "When verifying, read back every blob copied and check its digest, not only its size (on S3 this downloads every blob).",
    };

    public static Command Create()
    {
        var migrate = new Command(
            "migrate",
            "Move an embedded install (SQLite and local disk, given by --from) to the PostgreSQL database and blob store this command is configured with (--metadata postgres --metadata-connection …, Storage:* in --config or WHARF__Storage__*). Migrates the destination's schema, refuses a destination database that is not empty (unless --overwrite), copies every blob and every table, copies the master key when the destination has none, then verifies row counts and blob sizes. Exits 0 when the destination matches, 1 when verification found differences, 2 when nothing could be done.")
        {
            From,
            FromConfig,
            Overwrite,
            Deep,
            CliOptions.Json,
        };
        migrate.SetAction(RunAsync);
        return migrate;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (SourceOptions(parse) is not { } source)
        {
            return WharfCli.ExitInvalid;
        }

        var sourceDatabase = Path.GetFullPath(source.Metadata.ConnectionString ?? Path.Combine(source.DataDirectory, "wharf.db"));
        if (!File.Exists(sourceDatabase))
        {
            return WharfCli.Fail($"there is no Wharf database at '{sourceDatabase}'; pass --from with the data directory of the embedded install (or --from-config with its settings)");
        }

        if (source.Storage.Backend == StorageBackend.FileSystem && source.Storage.Path is { } blobPath && !Directory.Exists(blobPath))
        {
            return WharfCli.Fail($"the source's blob directory '{blobPath}' does not exist; check Storage:Path in --from-config");
        }

        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken, DestinationProblem) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var destination = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
            try
            {
                var report = new MigrateResult { Json = parse.GetValue(CliOptions.Json) };
                var exit = await MigrateAsync(source, sourceDatabase, destination, app.Services, parse, report, cancellationToken);
                if (report.Json && exit != WharfCli.ExitInvalid)
                {
                    CliJson.Write(report);
                }

                return exit;
            }
            catch (Exception e) when (e is DbException or IOException or InvalidOperationException or InvalidDataException or BlobStoreUnavailableException or UnauthorizedAccessException or TimeoutException)
            {
                return WharfCli.Fail($"migrate failed: {WharfCli.OneLine(e)}; the destination database was left as it was before the table copy (blobs copied so far stay, and are skipped when run again)");
            }
        }
    }

    private static async Task<int> MigrateAsync(WharfOptions source, string sourceDatabase, WharfOptions destination, IServiceProvider services, ParseResult parse, MigrateResult report, CancellationToken cancellationToken)
    {
        // Brings the source to this Wharf's schema version first, as its own server would on start.
        var sealedAddresses = new HashSet<Digest>();
        await using (var upgrade = new SqliteMetadataStore(sourceDatabase))
        {
            await upgrade.MigrateAsync(cancellationToken);

            // Sealed copies are named by an address, not by their bytes' hash: the copier takes them as they are.
            await foreach (var copy in upgrade.SealedCopies.ListAllAsync(cancellationToken))
            {
                sealedAddresses.Add(copy.Address);
            }
        }

        var store = services.GetRequiredService<IMetadataStore>();
        await store.MigrateAsync(cancellationToken);
        await using var import = new PgImport(destination.Metadata.ConnectionString!);
        await using var export = await SqliteExport.OpenAsync(sourceDatabase, cancellationToken);
        var (sourceVersion, destinationVersion) = (await export.SchemaVersionAsync(cancellationToken), await import.SchemaVersionAsync(cancellationToken));
        if (sourceVersion != destinationVersion)
        {
            return WharfCli.Fail($"the source is at schema version {sourceVersion} and the destination at {destinationVersion}; both must be this Wharf's");
        }

        // Same version, so the same tables and columns; checked anyway, since a row left behind is lost.
        var tables = await import.TablesAsync(cancellationToken);
        if ((await export.TablesAsync(cancellationToken)).Except(tables.Select(t => t.Name), StringComparer.Ordinal).ToList() is { Count: > 0 } extraTables)
        {
            return WharfCli.Fail($"the destination has no table {string.Join(", ", extraTables)} that the source has; the two schemas differ");
        }

        foreach (var table in tables)
        {
            var columns = await export.ColumnsAsync(table.Name, cancellationToken);
            if (!columns.Order(StringComparer.Ordinal).SequenceEqual(table.Columns.Order(StringComparer.Ordinal), StringComparer.Ordinal))
            {
                return WharfCli.Fail($"the table '{table.Name}' has the columns ({string.Join(", ", columns)}) in the source and ({string.Join(", ", table.Columns)}) in the destination; the two schemas differ");
            }
        }

        var overwrite = parse.GetValue(Overwrite);
        if (!overwrite && Occupied(await import.CountAsync(cancellationToken)) is { } occupied)
        {
            return WharfCli.Fail($"the destination database is not empty ({occupied}); wharf migrate fills an empty database: create a new one, or pass --overwrite to replace what it holds");
        }

        if (CopyMasterKey(source, destination, report) is { } keyProblem)
        {
            return WharfCli.Fail(keyProblem);
        }

        var sourceBlobs = BackendFactory.CreateBlobStore(source);
        var destinationBlobs = services.GetRequiredService<IBlobStore>();
        await sourceBlobs.CheckAsync(cancellationToken);
        await destinationBlobs.CheckAsync(cancellationToken);
        var copier = new BlobCopier(sourceBlobs, destinationBlobs, sealedAddresses);
        if (await CopyBlobsAsync(copier, report, cancellationToken) > 0)
        {
            report.Line("metadata not copied: fix the blobs above and run again (the blobs copied are kept and skipped)");
            return ExitMismatch;
        }

        var refused = await import.ImportAsync(t => export.ReadAsync(t, cancellationToken), overwrite, cancellationToken);
        if (refused.Count > 0)
        {
            return WharfCli.Fail($"the destination database was filled by someone else meanwhile (tables {string.Join(", ", refused)}); nothing was copied");
        }

        var sourceCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            sourceCounts[table.Name] = await export.CountAsync(table.Name, cancellationToken);
        }

        (report.MetadataCopied, report.RowsCopied, report.Tables) = (true, sourceCounts.Values.Sum(), tables.Count);
        report.Line(string.Create(CultureInfo.InvariantCulture, $"tables: copied {sourceCounts.Values.Sum()} rows in {tables.Count} tables"));
        return await VerifyAsync(tables, sourceCounts, await import.CountAsync(cancellationToken), copier, parse.GetValue(Deep), report, cancellationToken);
    }

    private static async Task<int> CopyBlobsAsync(BlobCopier copier, MigrateResult report, CancellationToken cancellationToken)
    {
        long copied = 0, copiedBytes = 0, present = 0, failed = 0;
        await foreach (var result in copier.CopyAsync(cancellationToken))
        {
            switch (result.Outcome)
            {
                case BlobCopyOutcome.Copied:
                    copied++;
                    copiedBytes += result.Size;
                    break;
                case BlobCopyOutcome.AlreadyPresent:
                    present++;
                    break;
                default:
                    failed++;
                    await Console.Error.WriteLineAsync($"{result.Digest}: {result.Problem}");
                    break;
            }
        }

        (report.BlobsCopied, report.BytesCopied, report.BlobsAlreadyPresent, report.BlobsFailed) = (copied, copiedBytes, present, failed);
        report.Line(string.Create(CultureInfo.InvariantCulture, $"blobs: copied {copied} ({copiedBytes} bytes), {present} already in the destination, {failed} failed"));
        return (int)Math.Min(failed, int.MaxValue);
    }

    private static async Task<int> VerifyAsync(IReadOnlyList<MetadataTable> tables, Dictionary<string, long> sourceCounts, IReadOnlyDictionary<string, long> destinationCounts, BlobCopier copier, bool deep, MigrateResult report, CancellationToken cancellationToken)
    {
        var problems = 0;
        foreach (var table in tables)
        {
            var (expected, actual) = (sourceCounts[table.Name], destinationCounts.GetValueOrDefault(table.Name));
            if (expected != actual)
            {
                problems++;
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"table {table.Name}: {actual} rows in the destination, {expected} in the source"));
            }
        }

        await foreach (var problem in copier.VerifyAsync(deep, cancellationToken))
        {
            problems++;
            await Console.Error.WriteLineAsync(problem);
        }

        (report.Verified, report.Differences, report.BlobsVerified) = (problems == 0, problems, copier.Verified);
        report.Line(problems == 0
            ? string.Create(CultureInfo.InvariantCulture, $"verified: row counts of {tables.Count} tables, and {copier.Verified} blobs' sizes{(deep ? " and digests" : "")}, match")
            : string.Create(CultureInfo.InvariantCulture, $"verification found {problems} differences"));
        return problems == 0 ? 0 : ExitMismatch;
    }

    // The source is read from its own settings only: the WHARF__* variables and flags describe the destination.
    private static WharfOptions? SourceOptions(ParseResult parse)
    {
        var (directory, file) = (parse.GetValue(From), parse.GetValue(FromConfig));
        if (directory is null && file is null)
        {
            WharfCli.Fail("pass --from with the data directory of the embedded install to move (and --from-config if it has a settings file)");
            return null;
        }

        if (file is not null && !File.Exists(file))
        {
            WharfCli.Fail($"settings file '{file}' does not exist; pass --from-config with the embedded install's JSON settings");
            return null;
        }

        try
        {
            var configuration = new ConfigurationBuilder();
            if (file is not null)
            {
                configuration.AddJsonFile(Path.GetFullPath(file), optional: false);
            }

            configuration.AddInMemoryCollection(directory is null ? [] : [new("DataDirectory", directory)]);
            var options = configuration.Build().Get<WharfOptions>() ?? new WharfOptions();
            if (options.Metadata.Backend != MetadataBackend.Sqlite)
            {
                WharfCli.Fail("the source must be an embedded install (Metadata:Backend sqlite); its settings say postgres");
                return null;
            }

            return options;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException)
        {
            WharfCli.Fail($"the source's settings are invalid: {WharfCli.OneLine(e)}");
            return null;
        }
    }

    private static string? DestinationProblem(WharfOptions destination) => destination.Metadata.Backend == MetadataBackend.Postgres
        ? null
        : "the destination must be PostgreSQL: pass --metadata postgres --metadata-connection 'Host=…;Username=…;Database=…' (or set Metadata:Backend and Metadata:ConnectionString in --config)";

    private static string? Occupied(IReadOnlyDictionary<string, long> counts)
    {
        var occupied = counts.Where(c => c.Value > 0).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}: {c.Value} rows")).ToList();
        return occupied.Count == 0 ? null : string.Join(", ", occupied.Take(3)) + (occupied.Count > 3 ? ", …" : "");
    }

    /// <summary>
    /// Access-key secrets are sealed with the master key, so the destination must open them with the
    /// source's: copied when the destination has none, refused when it has another.
    /// </summary>
    private static string? CopyMasterKey(WharfOptions source, WharfOptions destination, MigrateResult report)
    {
        var (from, to) = (MasterKey.PathFor(source), MasterKey.PathFor(destination));
        if (!File.Exists(from) || from == to)
        {
            return null;
        }

        var key = File.ReadAllText(from).Trim();
        if (File.Exists(to))
        {
            return File.ReadAllText(to).Trim() == key
                ? null
                : $"the destination's master key '{to}' differs from the source's '{from}', and the copied access keys could only be opened with the source's; point Identity:MasterKeyFile at a copy of '{from}' (or remove '{to}' if nothing uses it)";
        }

        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        MasterKey.WriteOwnerOnly(to, key);
        report.MasterKeyCopied = true;
        report.Line($"master key: copied '{from}' to '{to}'; every node must use this same file (Identity:MasterKeyFile)");
        return null;
    }

    /// <summary>
    /// What a run did, for <c>--json</c> (the document's fields; <c>metadataCopied</c> false when blobs failed and
    /// the tables were left alone). The human lines go to stdout, or with <c>--json</c> to stderr.
    /// </summary>
    internal sealed class MigrateResult
    {
        [System.Text.Json.Serialization.JsonIgnore]
        public bool Json { get; init; }

        public bool MasterKeyCopied { get; set; }

        public long BlobsCopied { get; set; }

        public long BytesCopied { get; set; }

        public long BlobsAlreadyPresent { get; set; }

        public long BlobsFailed { get; set; }

        public bool MetadataCopied { get; set; }

        public long RowsCopied { get; set; }

        public int Tables { get; set; }

        public bool Verified { get; set; }

        public long BlobsVerified { get; set; }

        public int Differences { get; set; }

        public void Line(string line) => (Json ? Console.Error : Console.Out).WriteLine(line);
    }
}
