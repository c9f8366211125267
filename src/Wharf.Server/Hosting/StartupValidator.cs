using Wharf.Core.Storage;
using Wharf.Metadata.Postgres;
using Wharf.Storage.S3;

namespace Wharf.Server.Hosting;

/// <summary>
/// Checks at start that say what to fix, in one line each, before anything listens: the options
/// themselves (<see cref="WharfOptionsValidator"/>), then what they point at — writable directories, a
/// reachable PostgreSQL, a usable S3 bucket. Returns null when the options are usable. A port already in use is found
/// when Kestrel binds (the CLI turns that into one line too).
/// </summary>
internal static class StartupValidator
{
    /// <summary>How long the bucket gets to answer at start; the SDK's own retries fit in it.</summary>
    private static readonly TimeSpan S3CheckTimeout = TimeSpan.FromSeconds(30);

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

        if (options.Storage.Backend == StorageBackend.S3 && await S3ProblemAsync(options, cancellationToken) is { } s3Problem)
        {
            return s3Problem;
        }

        return null;
    }

    private static async Task<string?> S3ProblemAsync(WharfOptions options, CancellationToken cancellationToken)
    {
        using var store = new S3BlobStore(BackendFactory.CreateS3Options(options.Storage.S3));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(S3CheckTimeout);
        try
        {
            await store.CheckAsync(timeout.Token);
            return null;
        }
        catch (BlobStoreUnavailableException e)
        {
            return $"the S3 blob store is not usable: {e.Message}; check Storage:S3:*";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"the S3 blob store did not answer within {S3CheckTimeout.TotalSeconds:0} s; check Storage:S3:Endpoint and that the server is running";
        }
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
