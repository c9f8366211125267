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
    private static readonly TimeSpan S3CheckRetryDelay = TimeSpan.FromSeconds(1);

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

        if (listening && TlsSetup.FileProblem(options) is { } tlsProblem)
        {
            return tlsProblem;
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
        while (true)
        {
            try
            {
                await store.CheckAsync(timeout.Token);
                return null;
            }
            catch (BlobStoreUnavailableException e) when (!IsBusy(e))
            {
                return $"the S3 blob store is not usable: {e.Message}; check Storage:S3:*";
            }
            catch (Exception e) when ((e is BlobStoreUnavailableException or OperationCanceledException) && !cancellationToken.IsCancellationRequested)
            {
                // Slow or answering 5xx (a node restarting while S3 is under load): it gets until the
                // deadline. A missing bucket, refused credentials or a closed port are final at once.
                if (timeout.IsCancellationRequested)
                {
                    return $"the S3 blob store did not answer within {S3CheckTimeout.TotalSeconds:0} s ({e.Message}); check Storage:S3:Endpoint and that the server is running";
                }
            }

            await Task.Delay(S3CheckRetryDelay, cancellationToken);
        }
    }

    /// <summary>A check that timed out or met a 5xx: the store is there but busy, not misconfigured.</summary>
    private static bool IsBusy(BlobStoreUnavailableException e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is OperationCanceledException or TimeoutException
                || (inner is Amazon.S3.AmazonS3Exception s3 && (int)s3.StatusCode >= 500))
            {
                return true;
            }
        }

        return false;
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
