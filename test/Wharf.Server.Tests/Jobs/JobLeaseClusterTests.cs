using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Wharf.Server.Jobs;
using Wharf.Server.Scanning;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Jobs;

/// <summary>
/// Job leases between two real hosts on one PostgreSQL database, each with its own scheduler: a long
/// run keeps its lease by renewing it, a graceful stop hands the job over at once, and a node that stops
/// renewing (frozen: its clock never moves, so neither do its timers) loses the job after the lease time —
/// and, when it wakes, its renewal finds the lease lost and cancels its run. Last, a real <c>wharf</c>
/// process renews a lease until it is killed with SIGKILL, and another node takes the job once it runs out.
/// </summary>
public sealed class JobLeaseClusterTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    // The scheduler's timers run on the fake clock: keep the real jobs from firing while the tests move it.
    private static readonly Dictionary<string, string?> Quiet = new()
    {
        ["Lifecycle:Interval"] = "40.00:00:00",
        ["Gc:Interval"] = "40.00:00:00",
        ["Uploads:SweepInterval"] = "40.00:00:00",
        ["Images:PullTimeFlushInterval"] = "40.00:00:00",
        ["Scanning:Interval"] = "40.00:00:00",
        ["Events:PruneInterval"] = "40.00:00:00",
        ["Webhooks:Interval"] = "40.00:00:00",
        ["Jobs:Lease"] = "00:01:00",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_longer_than_the_lease_renews_it_and_the_other_node_never_runs_the_job_meanwhile()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var running = new RunningCount();
        var (jobA, jobB) = (new ProbeJob(running), new ProbeJob(running));
        await using var a = await WharfTestServer.StartOnPostgresAsync(Quiet, Services(time, jobA));
        await using var b = await a.StartPeerAsync(Quiet, Services(time, jobB));

        var runA = a.GetService<JobScheduler>().RunOnceAsync(jobA, Ct);
        await jobA.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // Five lease times, a renewal period (a third of the lease) at a time.
        for (var step = 0; step < 15; step++)
        {
            time.Advance(Lease / 3);
            await WaitForLeaseAsync(a, a.GetService<JobScheduler>().Owner, time.GetUtcNow() + Lease);
            Assert.False(await b.GetService<JobScheduler>().RunOnceAsync(jobB, Ct));
        }

        Assert.False(jobA.Cancelled.Task.IsCompleted);
        jobA.Finish.SetResult();
        Assert.True(await runA.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(0, jobB.Runs);
        Assert.Equal(1, running.Max);

        // Released when the run ended: the other node takes the job at once, the clock unmoved.
        jobB.Finish.SetResult();
        Assert.True(await b.GetService<JobScheduler>().RunOnceAsync(jobB, Ct));
    }

    [Fact]
    public async Task A_graceful_stop_cancels_the_run_and_releases_the_lease_so_the_other_node_runs_the_job_at_once()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var running = new RunningCount();
        var (jobA, jobB) = (new ProbeJob(running, runsAtStart: true), new ProbeJob(running));

        // A's own scheduler runs the job (at start), under the host's stopping token.
        var a = await WharfTestServer.StartOnPostgresAsync(Quiet, Services(time, jobA));
        await using var b = await a.StartPeerAsync(Quiet, Services(time, jobB));
        await jobA.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.False(await b.GetService<JobScheduler>().RunOnceAsync(jobB, Ct));

        await a.DisposeAsync();

        Assert.True(jobA.Cancelled.Task.IsCompleted);
        jobB.Finish.SetResult();
        Assert.True(await b.GetService<JobScheduler>().RunOnceAsync(jobB, Ct));
        Assert.Equal(1, jobB.Runs);
        Assert.Equal(1, running.Max);
    }

    [Fact]
    public async Task A_holder_that_stops_renewing_loses_the_job_after_the_lease_time_and_its_run_is_cancelled_when_it_wakes()
    {
        var start = DateTimeOffset.UtcNow;
        var (timeA, timeB) = (new FakeTimeProvider(start), new FakeTimeProvider(start));
        var running = new RunningCount();
        var (jobA, jobB) = (new ProbeJob(running), new ProbeJob(running));
        await using var a = await WharfTestServer.StartOnPostgresAsync(Quiet, Services(timeA, jobA));
        await using var b = await a.StartPeerAsync(Quiet, Services(timeB, jobB));
        var schedulerB = b.GetService<JobScheduler>();
        var runA = a.GetService<JobScheduler>().RunOnceAsync(jobA, Ct);
        await jobA.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // Node A is frozen: its clock stays put, so its renewal timer never fires.
        timeB.Advance(Lease - TimeSpan.FromSeconds(10));
        Assert.False(await schedulerB.RunOnceAsync(jobB, Ct));
        timeB.Advance(TimeSpan.FromSeconds(11));
        var runB = schedulerB.RunOnceAsync(jobB, Ct);
        await jobB.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await WaitForLeaseAsync(a, schedulerB.Owner, timeB.GetUtcNow() + Lease);

        // A wakes: its next renewal finds the lease taken, cancels its run and leaves B's lease alone.
        timeA.Advance(Lease / 3);
        await jobA.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.False(await runA.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        await WaitForLeaseAsync(a, schedulerB.Owner, timeB.GetUtcNow() + Lease);
        Assert.False(jobB.Cancelled.Task.IsCompleted);

        jobB.Finish.SetResult();
        Assert.True(await runB.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(1, jobA.Runs);
        Assert.Equal(1, jobB.Runs);
    }

    [Fact]
    public async Task A_holder_process_renews_until_killed_with_SIGKILL_and_its_job_is_taken_over_once_the_lease_runs_out()
    {
        // A download that never answers (the port accepts connections into its backlog and no more) keeps
        // the holder's vulndb-download run, started with the process, going for as long as it lives.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var connection = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync(Ct);
        var dir = Path.Combine(Path.GetTempPath(), "wharf-holder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        await using var holder = await WharfProcess.StartAsync(dir, new Dictionary<string, string>
        {
            ["WHARF__Metadata__Backend"] = "Postgres",
            ["WHARF__Metadata__ConnectionString"] = connection,
            ["WHARF__Jobs__Lease"] = "00:00:06",
            ["WHARF__Scanning__DatabaseUrls__0"] = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/Debian/all.zip",
        });
        const string Job = VulnerabilityDownloadJob.JobName;
        var held = await WaitForRowAsync(connection, Job, row => row.Owner.Contains($"/{holder.ProcessId}/", StringComparison.Ordinal));
        await WaitForRowAsync(connection, Job, row => row.Owner == held.Owner && row.Expires > held.Expires);

        holder.Kill();
        await Task.Delay(TimeSpan.FromSeconds(1), Ct); // a renewal sent just before the kill has committed by now
        var last = await WaitForRowAsync(connection, Job, row => row.Owner == held.Owner);

        var survivorJob = new ProbeJob(new RunningCount(), name: Job);
        survivorJob.Finish.SetResult();
        await using var survivor = await WharfTestServer.StartAsync(
            new Dictionary<string, string?>(Quiet) { ["Metadata:Backend"] = "Postgres", ["Metadata:ConnectionString"] = connection },
            services: s => s.AddSingleton<IBackgroundJob>(survivorJob));
        var scheduler = survivor.GetService<JobScheduler>();
        while (!await scheduler.RunOnceAsync(survivorJob, Ct))
        {
            Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < last.Expires + 10_000, "the dead holder's lease was not taken over");
            await Task.Delay(100, Ct);
        }

        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= last.Expires, "taken over before the dead holder's lease ran out");
        Assert.Equal(1, survivorJob.Runs);
        Directory.Delete(dir, recursive: true);
    }

    private static Action<IServiceCollection> Services(TimeProvider time, ProbeJob job) => s =>
    {
        s.AddSingleton(time);
        s.AddSingleton<IBackgroundJob>(job);
    };

    /// <summary>Waits until the lease row of <paramref name="job"/> exists and satisfies <paramref name="wanted"/>; returns it.</summary>
    private static async Task<(string Owner, long Expires)> WaitForRowAsync(string connectionString, string job, Func<(string Owner, long Expires), bool> wanted)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        (string Owner, long Expires)? row = null;
        for (var attempt = 0; attempt < 600; attempt++)
        {
            await using var command = new NpgsqlCommand("SELECT owner, expires_at FROM job_leases WHERE job = @job", connection);
            command.Parameters.AddWithValue("job", job);
            await using (var reader = await command.ExecuteReaderAsync(Ct))
            {
                row = await reader.ReadAsync(Ct) ? (reader.GetString(0), reader.GetInt64(1)) : null;
            }

            if (row is { } found && wanted(found))
            {
                return found;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Fail($"the lease of {job} is {row?.ToString() ?? "not held"}, not as the test waits for");
        return default;
    }

    /// <summary>Waits until the probe's lease row names <paramref name="owner"/> and expires at <paramref name="expires"/> (the renewal ran).</summary>
    private static Task WaitForLeaseAsync(WharfTestServer server, string owner, DateTimeOffset expires) =>
        WaitForRowAsync(server.App.Configuration["Metadata:ConnectionString"]!, "probe", row => row == (owner, expires.ToUnixTimeMilliseconds()));

    /// <summary>How many probe runs are under way on any node, and the most there ever were at once.</summary>
    private sealed class RunningCount
    {
        private int now;
        private int max;

        public int Max => Volatile.Read(ref max);

        public void Enter()
        {
            var count = Interlocked.Increment(ref now);
            int seen;
            while (count > (seen = Volatile.Read(ref max)) && Interlocked.CompareExchange(ref max, count, seen) != seen)
            {
            }
        }

        public void Leave() => Interlocked.Decrement(ref now);
    }

    /// <summary>A job that runs until the test finishes it or its token is cancelled; the tests run it explicitly, or at start.</summary>
    private sealed class ProbeJob(RunningCount running, bool runsAtStart = false, string name = "probe") : IBackgroundJob
    {
        private int runs;

        public string Name => name;

        public TimeSpan Interval => TimeSpan.FromDays(40);

        public bool RunsAtStart => runsAtStart;

        public int Runs => Volatile.Read(ref runs);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Finish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<string> RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref runs);
            running.Enter();
            try
            {
                Started.TrySetResult();
                await Finish.Task.WaitAsync(cancellationToken);
                return "probed";
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
            finally
            {
                running.Leave();
            }
        }
    }
}
