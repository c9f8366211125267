using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Storage;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf status</c>: a running install at a glance — this build's version and commit; the backends
/// the settings name and whether each answers; whether the server answers <c>/health/ready</c> at the
/// configured address and port; the background jobs with their last runs (recorded by the scheduler in
/// the metadata store, on whichever node ran them); and counts and sizes, each one indexed aggregate.
/// Reads only: it neither migrates the store nor takes a lease. Exits 0 when the server is up and ready
/// and both backends answer, 1 otherwise (the figures are still shown), 2 when the settings are unusable.
/// </summary>
internal static class StatusCommand
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public static Command Create()
    {
        var status = new Command(
            "status",
            "Show the install: this build's version and commit; the metadata and blob backends (from the settings) and whether each answers; whether the server answers /health/ready at --address and --port (Address and Port settings); the background jobs and their last runs; counts and sizes (repositories, manifests, blobs and their bytes, upload sessions, pending scans and replications). Exits 0 when all is up, 1 when the server or a backend is down (the rest is still shown). Safe beside a running server: it only reads.")
        {
            CliOptions.Address, CliOptions.Port, CliOptions.Json,
        };
        status.SetAction(RunAsync);
        return status;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var report = await GatherAsync(app.Services, cancellationToken);
            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(report);
            }
            else
            {
                StatusOutput.Write(report, Console.Out, interactive: !Console.IsOutputRedirected);
            }

            return report.Server.Up && report.Server.Ready && report.Metadata.Healthy && report.Blobs.Healthy ? 0 : 1;
        }
    }

    public static async Task<StatusReport> GatherAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<WharfOptions>>().Value;
        var store = services.GetRequiredService<IMetadataStore>();
        var blobStore = services.GetRequiredService<IBlobStore>();

        // All at once: a backend that hangs costs one timeout, not three.
        var server = ProbeServerAsync(options, cancellationToken);
        var metadataHealth = ProbeAsync(async token => await store.PingAsync(token) ? null : "did not answer the ping", cancellationToken);
        var blobHealth = ProbeAsync(async token =>
        {
            await blobStore.CheckAsync(token);
            return null;
        }, cancellationToken);

        var metadataProblem = await metadataHealth;
        var metadata = new BackendStatus(store.Backend, DescribeMetadata(options), metadataProblem is null, metadataProblem);
        var blobProblem = await blobHealth;
        var blobs = new BackendStatus(options.Storage.Backend == StorageBackend.S3 ? "s3" : "filesystem", BackendFactory.DescribeBlobStore(options), blobProblem is null, blobProblem);

        var (jobs, jobsProblem) = metadata.Healthy ? await JobsAsync(services, store, cancellationToken) : ([], metadataProblem);
        var (counts, countsProblem) = metadata.Healthy ? await CountAsync(store, cancellationToken) : (null, metadataProblem);
        return new StatusReport(WharfVersion.Version, WharfVersion.Commit, await server, metadata, blobs, jobs, jobsProblem, counts, countsProblem);
    }

    /// <summary>Where the metadata is, never its password: the SQLite file, or the PostgreSQL host, port and database.</summary>
    public static string DescribeMetadata(WharfOptions options)
    {
        if (options.Metadata.Backend != MetadataBackend.Postgres)
        {
            return Path.GetFullPath(options.Metadata.ConnectionString ?? Path.Combine(options.DataDirectory, "wharf.db"));
        }

        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = options.Metadata.ConnectionString ?? "" };
            string? Get(params string[] keys) => keys.Select(k => builder.TryGetValue(k, out var v) ? v?.ToString() : null).FirstOrDefault(v => !string.IsNullOrEmpty(v));
            var host = Get("Host", "Server") ?? "localhost";
            var port = Get("Port") is { } p ? $":{p}" : "";
            return $"{host}{port}/{Get("Database", "Db") ?? "(default database)"}";
        }
        catch (ArgumentException)
        {
            return "(an unreadable connection string)";
        }
    }

    private static async Task<(IReadOnlyList<JobStatus>, string?)> JobsAsync(IServiceProvider services, IMetadataStore store, CancellationToken cancellationToken)
    {
        IReadOnlyList<JobRunRecord> runs;
        try
        {
            runs = await store.Leases.ListRunsAsync(cancellationToken);
        }
        catch (DbException e)
        {
            // A store an older Wharf created (no job_runs yet: the server migrates it at its next start).
            return ([], $"the last runs could not be read ({WharfCli.OneLine(e.Message)}); a server of this version records them");
        }

        var byName = runs.ToDictionary(r => r.Job, StringComparer.Ordinal);
        var jobs = services.GetServices<IBackgroundJob>()
            .Select(j => (j.Name, Interval: (TimeSpan?)j.Interval))
            .Concat(runs.Select(r => (Name: r.Job, Interval: (TimeSpan?)null)))
            .DistinctBy(j => j.Name)
            .OrderBy(j => j.Name, StringComparer.Ordinal)
            .Select(j => byName.TryGetValue(j.Name, out var run)
                ? new JobStatus(j.Name, j.Interval?.TotalSeconds, run.StartedAt, (long)run.Duration.TotalMilliseconds, run.Failure is null, run.Outcome, run.Failure, run.NextDueAt, run.Owner)
                : new JobStatus(j.Name, j.Interval?.TotalSeconds, null, null, null, null, null, null, null))
            .ToList();
        return (jobs, null);
    }

    private static async Task<(StatusCounts?, string?)> CountAsync(IMetadataStore store, CancellationToken cancellationToken)
    {
        try
        {
            var blobs = await store.Blobs.GetTotalsAsync(cancellationToken);
            return (new StatusCounts(
                await store.Repositories.CountAsync(cancellationToken),
                await store.Images.CountManifestsAsync(cancellationToken),
                blobs.Count,
                blobs.Bytes,
                await store.Uploads.CountAsync(cancellationToken),
                await store.Scans.CountPendingAsync(cancellationToken),
                await store.Replications.CountPendingAsync(cancellationToken)), null);
        }
        catch (DbException e)
        {
            return (null, $"the counts could not be read ({WharfCli.OneLine(e.Message)})");
        }
    }

    /// <summary>Null when the check passed within <see cref="ProbeTimeout"/>, else why not (one line).</summary>
    private static async Task<string?> ProbeAsync(Func<CancellationToken, Task<string?>> check, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            return await check(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"did not answer within {ProbeTimeout.TotalSeconds:0} s";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return WharfCli.OneLine(e);
        }
    }

    /// <summary>
    /// Asks the server at the configured address and port for <c>/health/ready</c>: over plain HTTP, then
    /// over HTTPS (a server with TLS). Only whether and how it answers is read and no credentials are sent,
    /// so the HTTPS probe accepts any certificate: it asks whether our server is up, not whom to trust.
    /// </summary>
    private static async Task<ServerStatus> ProbeServerAsync(WharfOptions options, CancellationToken cancellationToken)
    {
        if (options.Port == 0)
        {
            return new ServerStatus(null, false, false, "the configured port is 0 (chosen at start); pass --port with the server's port");
        }

        var host = options.Address switch
        {
            "0.0.0.0" or "*" or "+" => "127.0.0.1",
            "::" or "[::]" => "[::1]",
            var a when IPAddress.TryParse(a, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 => $"[{ip}]",
            var a => a,
        };
        string? lastProblem = null;
        foreach (var scheme in new[] { "http", "https" })
        {
            var url = $"{scheme}://{host}:{options.Port.ToString(CultureInfo.InvariantCulture)}/health/ready";
#pragma warning disable CA5359 // See the summary: a liveness probe that sends nothing and trusts nothing it reads.
            using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true }, ConnectTimeout = ProbeTimeout };
#pragma warning restore CA5359
            using var client = new HttpClient(handler) { Timeout = ProbeTimeout };
            try
            {
                using var response = await client.GetAsync(new Uri(url), cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                var ready = response.StatusCode == HttpStatusCode.OK;
                return new ServerStatus(url, true, ready, ready ? null : $"answered {(int)response.StatusCode}: {WharfCli.OneLine(body.Length > 300 ? body[..300] : body)}");
            }
            catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError)
            {
                // Nothing listens there: HTTPS would find nothing either.
                return new ServerStatus(url, false, false, $"nothing answers at {scheme}://{host}:{options.Port.ToString(CultureInfo.InvariantCulture)} ({WharfCli.OneLine(e.Message)})");
            }
            catch (HttpRequestException e)
            {
                lastProblem = WharfCli.OneLine(e);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastProblem = $"no answer within {ProbeTimeout.TotalSeconds:0} s";
            }
        }

        return new ServerStatus(null, false, false, $"no server answers at {host}:{options.Port.ToString(CultureInfo.InvariantCulture)} ({lastProblem})");
    }
}

/// <summary><c>wharf status --json</c> (docs/operations.md "The command line").</summary>
internal sealed record StatusReport(
    string Version,
    string? Commit,
    ServerStatus Server,
    BackendStatus Metadata,
    BackendStatus Blobs,
    IReadOnlyList<JobStatus> Jobs,
    string? JobsProblem,
    StatusCounts? Counts,
    string? CountsProblem);

/// <summary>The server at the configured address: <c>up</c> when it answered, <c>ready</c> when <c>/health/ready</c> said 200.</summary>
internal sealed record ServerStatus(string? Url, bool Up, bool Ready, string? Problem);

/// <summary>A backend: what the settings name (never a password) and whether it answered.</summary>
internal sealed record BackendStatus(string Backend, string Location, bool Healthy, string? Problem);

/// <summary>A background job and its last run (all null when it has not run since the store was created or upgraded).</summary>
internal sealed record JobStatus(
    string Name,
    double? IntervalSeconds,
    DateTimeOffset? LastStartedAt,
    long? LastDurationMs,
    bool? LastSucceeded,
    string? LastOutcome,
    string? LastFailure,
    DateTimeOffset? NextDueAt,
    string? LastRunBy);

/// <summary>Counts and sizes, each one aggregate of the metadata store.</summary>
internal sealed record StatusCounts(long Repositories, long Manifests, long Blobs, long BlobBytes, long UploadsInProgress, long PendingScans, long PendingReplications);
