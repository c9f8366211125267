using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Tests.Jobs;

public sealed class JobSchedulerTests : IAsyncLifetime
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-jobs-" + Guid.NewGuid().ToString("N"));
    private SqliteMetadataStore store = null!;

    public async ValueTask InitializeAsync()
    {
        store = new SqliteMetadataStore(Path.Combine(directory, "wharf.db"));
        await store.MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Jobs_run_on_their_interval_of_the_clock()
    {
        var time = new WatchedClock();
        var job = new CountingJob(TimeSpan.FromMinutes(5));
        using var scheduler = new JobScheduler([job], store, time, Options.Create(new WharfOptions()), NullLogger<JobScheduler>.Instance);
        await scheduler.StartAsync(CancellationToken.None);

        await time.TimerCreatedAsync();
        Assert.Equal(0, job.Runs);
        time.Advance(TimeSpan.FromMinutes(5));
        await job.RanAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await job.RanAsync();
        await scheduler.StopAsync(CancellationToken.None);
        Assert.Equal(2, job.Runs);
    }

    [Fact]
    public async Task A_lease_held_by_another_node_skips_the_run_until_it_expires()
    {
        var time = new FakeTimeProvider();
        var job = new CountingJob(TimeSpan.FromMinutes(5));
        using var scheduler = new JobScheduler([job], store, time, Options.Create(new WharfOptions()), NullLogger<JobScheduler>.Instance);
        Assert.True(await store.Leases.TryAcquireAsync(job.Name, "another-node", time.GetUtcNow(), TimeSpan.FromMinutes(30), CancellationToken.None));

        Assert.False(await scheduler.RunOnceAsync(job, CancellationToken.None));
        Assert.Equal(0, job.Runs);

        time.Advance(TimeSpan.FromMinutes(31));
        Assert.True(await scheduler.RunOnceAsync(job, CancellationToken.None));
        Assert.Equal(1, job.Runs);

        // Released after the run: another node may take it at once.
        Assert.True(await store.Leases.TryAcquireAsync(job.Name, "another-node", time.GetUtcNow(), TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task Stopping_cancels_a_running_job_releases_its_lease_and_runs_nothing_more()
    {
        var time = new WatchedClock();
        var job = new BlockingJob(TimeSpan.FromMinutes(5));
        using var scheduler = new JobScheduler([job], store, time, Options.Create(new WharfOptions()), NullLogger<JobScheduler>.Instance);
        await scheduler.StartAsync(CancellationToken.None);
        await time.TimerCreatedAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(job.Cancelled.Task.IsCompletedSuccessfully);
        Assert.True(await store.Leases.TryAcquireAsync(job.Name, "another-node", time.GetUtcNow(), TimeSpan.FromMinutes(1), CancellationToken.None));

        // Stopped means every loop has ended (no timer is left to fire), so later intervals run nothing.
        Assert.True(scheduler.ExecuteTask!.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(1, job.Runs);
    }

    private sealed class BlockingJob(TimeSpan interval) : IBackgroundJob
    {
        private int runs;

        public string Name => "blocking";

        public TimeSpan Interval => interval;

        public int Runs => Volatile.Read(ref runs);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<string> RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref runs);
            Started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                return "never";
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
        }
    }

    private sealed class CountingJob(TimeSpan interval) : IBackgroundJob
    {
        private readonly SemaphoreSlim ran = new(0);
        private int runs;

        public string Name => "counting";

        public TimeSpan Interval => interval;

        public int Runs => Volatile.Read(ref runs);

        public Task<string> RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref runs);
            ran.Release();
            return Task.FromResult("counted");
        }

        /// <summary>Waits for the next run (the timeout only bounds a broken scheduler; no test waits it out).</summary>
        public async Task RanAsync() => Assert.True(await ran.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken), "the job did not run");
    }

    /// <summary>
    /// A <see cref="FakeTimeProvider"/> that tells when a timer is created. The scheduler's loops start on
    /// a thread of their own (BackgroundService runs ExecuteAsync off the caller), so a test advances the
    /// clock only once a loop's timer exists; advanced earlier, the timer would count from the new time.
    /// </summary>
    private sealed class WatchedClock : TimeProvider
    {
        private readonly FakeTimeProvider fake = new();
        private readonly SemaphoreSlim created = new(0);

        public override TimeZoneInfo LocalTimeZone => fake.LocalTimeZone;

        public override long TimestampFrequency => fake.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();

        public override long GetTimestamp() => fake.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = fake.CreateTimer(callback, state, dueTime, period);
            created.Release();
            return timer;
        }

        public void Advance(TimeSpan delta) => fake.Advance(delta);

        public async Task TimerCreatedAsync() => Assert.True(await created.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken), "the scheduler made no timer");
    }
}
