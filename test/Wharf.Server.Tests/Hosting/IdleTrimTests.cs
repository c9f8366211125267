using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Server.Cli;
using Wharf.Server.Hosting;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Telemetry;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// The idle trim (<see cref="IdleTrim"/>) on real Kestrel with a fake clock: none while requests arrive, exactly one a
/// quiet period after the last request, the next only after new requests and a new quiet period, none when set to 0.
/// The clock moves one check interval (a quarter of the period) at a time, each step only once the service has armed
/// its next check, so the counts are exact. Its servers are the only ones in the test process with the trim on (the
/// test harness turns it off), and the tests of one class run one at a time, so the <c>/metrics</c> counter moves only
/// with these trims.
/// </summary>
public sealed class IdleTrimTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan Check = Quiet / IdleTrim.ChecksPerPeriod;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_trim_while_requests_arrive_then_one_a_quiet_period_after_the_last()
    {
        await using var idle = await IdleServer.StartAsync("00:00:40");

        // A request every check interval for three quiet periods: never quiet long enough.
        for (var i = 0; i < 3 * IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.RequestAsync();
            await idle.StepAsync();
            Assert.Equal(0, idle.Trim.Trims);
        }

        // The last check saw the last request; a quiet period later comes the trim, not before.
        for (var i = 1; i < IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.StepAsync();
            Assert.Equal(0, idle.Trim.Trims);
        }

        await idle.StepAsync();
        Assert.Equal(1, idle.Trim.Trims);
    }

    [Fact]
    public async Task Exactly_one_trim_per_idle_period_and_scrapes_and_probes_do_not_count_as_requests()
    {
        await using var idle = await IdleServer.StartAsync("00:00:40");
        var before = await idle.ScrapeTrimsAsync();
        await idle.RequestAsync();

        // Scrapes of /metrics and health probes at every check neither hold the trim off nor bring another.
        for (var i = 0; i < IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.StepAsync();
            await idle.ProbeAsync();
            Assert.Equal(0, idle.Trim.Trims);
        }

        await idle.StepAsync();
        Assert.Equal(1, idle.Trim.Trims);
        for (var i = 0; i < 5 * IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.ProbeAsync();
            await idle.StepAsync();
        }

        Assert.Equal(1, idle.Trim.Trims);
        Assert.Equal(1, await idle.ScrapeTrimsAsync() - before);
    }

    [Fact]
    public async Task The_next_trim_waits_for_a_new_request_and_a_new_quiet_period()
    {
        await using var idle = await IdleServer.StartAsync("00:00:40");
        await idle.RequestAsync();
        for (var i = 0; i <= IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.StepAsync();
        }

        Assert.Equal(1, idle.Trim.Trims);

        await idle.RequestAsync();
        for (var i = 0; i < IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.StepAsync();
            Assert.Equal(1, idle.Trim.Trims);
        }

        await idle.StepAsync();
        Assert.Equal(2, idle.Trim.Trims);
    }

    [Fact]
    public async Task A_request_in_flight_holds_the_trim_off_until_it_ends()
    {
        await using var idle = await IdleServer.StartAsync("00:00:40");
        var activity = idle.Server.GetService<RequestActivity>();

        // A blob push left open (its body not sent) is a request in flight however long it lasts.
        using var client = idle.Server.CreateClient();
        var start = await client.PostAsync(new Uri(idle.Server.BaseAddress, "v2/idle/app/blobs/uploads/"), null, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, start.StatusCode);
        var body = new OpenBody();
        var patch = client.PatchAsync(new Uri(idle.Server.BaseAddress, start.Headers.Location!.ToString().TrimStart('/')), body, Ct);
        await WaitUntilAsync(() => RequestActivity.InFlight(activity.Snapshot) == 1 || patch.IsCompleted, "the PATCH did not arrive");
        if (patch.IsCompleted)
        {
            using var early = await patch;
            Assert.Fail($"the PATCH ended early: {(int)early.StatusCode} {await early.Content.ReadAsStringAsync(Ct)}");
        }
        for (var i = 0; i < 3 * IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.StepAsync();
            Assert.Equal(0, idle.Trim.Trims);
        }

        body.End();
        (await patch).EnsureSuccessStatusCode();
        await WaitUntilAsync(() => RequestActivity.InFlight(activity.Snapshot) == 0, "the PATCH did not end");
        for (var i = 0; i <= IdleTrim.ChecksPerPeriod; i++)
        {
            await idle.StepAsync();
        }

        Assert.Equal(1, idle.Trim.Trims);
    }

    [Fact]
    public async Task Zero_turns_the_trim_off()
    {
        await using var idle = await IdleServer.StartAsync("0");
        var before = await idle.ScrapeTrimsAsync();
        await idle.RequestAsync();
        for (var i = 0; i < 10; i++)
        {
            idle.Time.Advance(Quiet);
            await Task.Delay(20, Ct);
        }

        Assert.Equal(0, idle.Trim.Armed);
        Assert.Equal(0, idle.Trim.Trims);
        Assert.Equal(0, await idle.ScrapeTrimsAsync() - before);
    }

    [Fact]
    public void The_flag_sets_the_setting_in_seconds_and_refuses_what_is_not_a_number_of_seconds()
    {
        var serve = ServeCommand.Create();
        Assert.Equal("00:00:30", CliOptions.ToSettings(serve.Parse(["--idle-trim-after", "30"]))["IdleTrimAfter"]);
        Assert.Equal("00:00:00", CliOptions.ToSettings(serve.Parse(["--idle-trim-after", "0"]))["IdleTrimAfter"]);
        Assert.False(CliOptions.ToSettings(serve.Parse([])).ContainsKey("IdleTrimAfter"));
        Assert.Contains(serve.Parse(["--idle-trim-after", "10s"]).Errors, e => e.Message.Contains("--idle-trim-after must be a number of seconds", StringComparison.Ordinal));
        Assert.NotEmpty(serve.Parse(["--idle-trim-after", "-1"]).Errors);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(5, Ct);
        }
    }

    /// <summary>A server on a fake clock, with the trim set to <c>IdleTrimAfter</c>.</summary>
    private sealed class IdleServer(WharfTestServer server, FakeTimeProvider time, HttpClient client) : IAsyncDisposable
    {
        public WharfTestServer Server => server;

        public FakeTimeProvider Time => time;

        public IdleTrim Trim => server.GetService<IdleTrim>();

        public static async Task<IdleServer> StartAsync(string idleTrimAfter)
        {
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var server = await WharfTestServer.StartAsync(
                new Dictionary<string, string?> { ["IdleTrimAfter"] = idleTrimAfter },
                services: s => s.AddSingleton<TimeProvider>(time));
            var idle = new IdleServer(server, time, server.CreateClient());
            if (idleTrimAfter != "0")
            {
                await WaitUntilAsync(() => idle.Trim.Armed >= 1, "the idle trim armed no check");
            }

            return idle;
        }

        /// <summary>A registry request, returned only once the server has counted it ended.</summary>
        public async Task RequestAsync()
        {
            using var response = await client.GetAsync(new Uri(server.BaseAddress, "v2/"), Ct);
            response.EnsureSuccessStatusCode();
            var activity = server.GetService<RequestActivity>();
            await WaitUntilAsync(() => RequestActivity.InFlight(activity.Snapshot) == 0, "a request is still counted in flight");
        }

        /// <summary>A scrape of <c>/metrics</c> and a health probe.</summary>
        public async Task ProbeAsync()
        {
            await ScrapeTrimsAsync();
            using var health = await client.GetAsync(new Uri(server.BaseAddress, "health/ready"), Ct);
            health.EnsureSuccessStatusCode();
        }

        public async Task<double> ScrapeTrimsAsync() =>
            (await Scrape.GetAsync(client, new Uri(server.BaseAddress, "metrics"), Ct)).Sum("wharf_idle_trims_total");

        /// <summary>Moves the clock one check interval and waits for the check it fires (the next one armed).</summary>
        public async Task StepAsync()
        {
            var armed = Trim.Armed;
            time.Advance(Check);
            await WaitUntilAsync(() => Trim.Armed > armed, "the idle trim made no check");
        }

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await server.DisposeAsync();
        }
    }

    /// <summary>A request body that sends one byte (flushed: the client would otherwise hold it and the headers), then holds the request open until <see cref="End"/>.</summary>
    private sealed class OpenBody : HttpContent
    {
        private readonly TaskCompletionSource ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void End() => ended.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(new byte[] { 1 });
            await stream.FlushAsync();
            await ended.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
