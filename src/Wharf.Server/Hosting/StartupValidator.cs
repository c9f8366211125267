using Wharf.Metadata.Postgres;

namespace Wharf.Server.Hosting;

/// <summary>
/// Checks at start that say what to fix, in one line each, before anything listens: the options
/// themselves (<see cref="WharfOptionsValidator"/>), then what they point at — writable directories and
/// a reachable PostgreSQL. Returns null when the options are usable. A port already in use is found
/// when Kestrel binds (the CLI turns that into one line too).
/// </summary>
internal static class StartupValidator
{
    // listening: true for serve; false for commands that open an existing store.
    public static async Task<string?> ValidateAsync(WharfOptions options, bool listening, CancellationToken cancellationToken)
    {
        if (new WharfOptionsValidator(listening).FirstProblem(options) is { } problem)
        {
            return problem;
        }

        // Commands other than serve work on an existing store: a mistyped --data-dir must not
        // create an empty one and report it clean.
        var databasePath = options.Metadata.ConnectionString ?? Path.Combine(options.DataDirectory, "wharf.db");
        if (!listening && options.Metadata.Backend == MetadataBackend.Sqlite && !File.Exists(databasePath))
        {
            return $"there is no Wharf database at '{databasePath}'; pass --data-dir (or --metadata-connection) with what 'wharf serve' uses";
        }

        if (WritableDirectoryProblem(options.DataDirectory) is { } dataProblem)
        {
            return $"data directory '{options.DataDirectory}' is not usable ({dataProblem}); pass --data-dir with a writable directory";
        }

        if (options.Storage.Path is { } blobPath && WritableDirectoryProblem(blobPath) is { } blobProblem)
        {
            return $"blob directory '{blobPath}' is not usable ({blobProblem}); set Storage:Path to a writable directory";
        }

        if (options.Metadata.Backend == MetadataBackend.Postgres)
        {
            if (string.IsNullOrWhiteSpace(options.Metadata.ConnectionString))
            {
                return "the PostgreSQL backend needs a connection string; pass --metadata-connection 'Host=…;Username=…;Database=…'";
            }

            if (await PostgresMetadataStore.ProbeAsync(options.Metadata.ConnectionString, cancellationToken) is { } unreachable)
            {
                return unreachable + "; check --metadata-connection and that the server is running";
            }
        }
        else if (options.Metadata.ConnectionString is { } sqlitePath
            && Path.GetDirectoryName(Path.GetFullPath(sqlitePath)) is { } sqliteDirectory
            && WritableDirectoryProblem(sqliteDirectory) is { } sqliteProblem)
        {
            return $"the directory of the SQLite file '{sqlitePath}' is not usable ({sqliteProblem}); pass --metadata-connection with a path in a writable directory";
        }

        return null;
    }

    private static string? WritableDirectoryProblem(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".wharf-write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return e.Message.TrimEnd('.');
        }
    }
}
