using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Wharf.Testing;

/// <summary>
/// A throwaway PostgreSQL 15 cluster for the test run, started from the installed binaries: initdb
/// into a temp directory (as <c>nobody</c> when running as root, since PostgreSQL refuses root),
/// loopback only, trust auth, fsync off. One cluster per test process; each caller gets a fresh database.
/// </summary>
public sealed class PostgresCluster
{
    private const string DirectoryPrefix = "wharf-pg-";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresCluster? shared;
    private static int databaseCounter;

    private readonly string directory;
    private readonly string binDirectory;
    private readonly string? runAs;

    private PostgresCluster(string directory, string binDirectory, string? runAs, int port)
    {
        this.directory = directory;
        this.binDirectory = binDirectory;
        this.runAs = runAs;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Connection string of the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false;Timeout=10";

    /// <summary>The run's cluster, started on first use; skips (or fails in CI) when PostgreSQL is not installed.</summary>
    public static async Task<PostgresCluster> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (shared is not null)
            {
                return shared;
            }

            var bin = FindBinDirectory();
            if (bin is null)
            {
                Requires.Missing("PostgreSQL 15 server binaries (initdb, pg_ctl) were not found");
            }

            shared = await StartAsync(bin!);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => shared.Stop();
            return shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Creates a new empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = $"wharf_test_{Environment.ProcessId}_{Interlocked.Increment(ref databaseCounter)}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name}";
    }

    private static string? FindBinDirectory()
    {
        foreach (var candidate in new[] { "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin" })
        {
            if (File.Exists(Path.Combine(candidate, "initdb")) && File.Exists(Path.Combine(candidate, "pg_ctl")))
            {
                return candidate;
            }
        }

        var initdb = Requires.Which("initdb");
        return initdb is not null && Requires.Which("pg_ctl") is not null ? Path.GetDirectoryName(initdb) : null;
    }

    private static async Task<PostgresCluster> StartAsync(string bin)
    {
        SweepStale();
        var directory = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string? runAs = null;
        if (Environment.UserName == "root")
        {
            runAs = "nobody";
            (await ProcessRunner.RunAsync("chown", ["nobody", directory])).EnsureSuccess();
        }

        (await RunAsync(bin, runAs, "initdb", ["-D", Path.Combine(directory, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])).EnsureSuccess();

        for (var attempt = 0; ; attempt++)
        {
            var port = Ports.Free();
            var options = $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
            var start = await RunAsync(bin, runAs, "pg_ctl", ["-D", Path.Combine(directory, "data"), "-o", options, "-l", Path.Combine(directory, "log"), "-w", "-t", "30", "start"]);
            if (start.ExitCode == 0)
            {
                return new PostgresCluster(directory, bin, runAs, port);
            }

            if (attempt >= 3)
            {
                var log = File.Exists(Path.Combine(directory, "log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "log")) : string.Empty;
                Assert.Fail($"PostgreSQL did not start: {start.StandardError}\n{log}");
            }
        }
    }

    private void Stop()
    {
        try
        {
            RunAsync(binDirectory, runAs, "pg_ctl", ["-D", Path.Combine(directory, "data"), "-m", "immediate", "-w", "stop"]).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }

        TryDelete(directory);
    }

    /// <summary>
    /// Removes the clusters of test processes killed before they could stop theirs: a directory whose server is gone
    /// (no <c>postmaster.pid</c>) and that is older than any start (a cluster being created has none yet either).
    /// </summary>
    private static void SweepStale()
    {
        foreach (var stale in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            if (!File.Exists(Path.Combine(stale, "data", "postmaster.pid")) && Directory.GetCreationTimeUtc(stale) < DateTime.UtcNow - TimeSpan.FromMinutes(30))
            {
                TryDelete(stale);
            }
        }
    }

    /// <summary>Deletes a cluster's directory, again after a moment if a server process was still removing its files.</summary>
    private static void TryDelete(string directory)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(200);
            }
        }
    }

    private static Task<ProcessResult> RunAsync(string bin, string? runAs, string tool, IEnumerable<string> args) =>
        runAs is null
            ? ProcessRunner.RunAsync(Path.Combine(bin, tool), args, TimeSpan.FromMinutes(1))
            : ProcessRunner.RunAsync("runuser", ["-u", runAs, "--", Path.Combine(bin, tool), .. args], TimeSpan.FromMinutes(1));

}
