using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Jobs;

/// <summary>
/// The event log end to end, on both metadata backends: what a deletion through the ECR API records,
/// read through <see cref="IEventLog"/>, and the pruning job on a fake clock.
/// </summary>
public sealed class EventLogTests
{
    private const string Region = "us-east-1";
    private const string Repo = "events/app";

    // The scheduler's timers run on the fake clock: keep them from firing while the test moves it.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Lifecycle:Interval"] = "40.00:00:00",
        ["Gc:Interval"] = "40.00:00:00",
        ["Uploads:SweepInterval"] = "40.00:00:00",
        ["Images:PullTimeFlushInterval"] = "40.00:00:00",
        ["Scanning:Interval"] = "40.00:00:00",
        ["Events:PruneInterval"] = "40.00:00:00",
        ["Webhooks:Interval"] = "40.00:00:00",
    };

    public static TheoryData<string> Backends => new() { "sqlite", "postgres" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task BatchDeleteImage_of_an_images_last_tag_records_its_DELETE_event(string backend)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(backend, time, new CapturedLogs());
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        using var client = server.CreateClient();
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await Oci.PushImageAsync(client, Repo, "only")));

        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "batch-delete-image", "--repository-name", Repo, "--image-ids", "imageTag=only")).EnsureSuccess();

        var store = server.GetService<IMetadataStore>();
        var actions = (await store.Events.ListAsync(0, 100, time.GetUtcNow(), Ct))
            .Where(e => e.Type == "ECR Image Action")
            .Select(e => JsonDocument.Parse(e.Payload).RootElement.GetProperty("detail"))
            .Select(d => (Action: d.GetProperty("action-type").GetString(), Digest: d.GetProperty("image-digest").GetString(), Tag: d.GetProperty("image-tag").GetString(), Repository: d.GetProperty("repository-name").GetString(), Result: d.GetProperty("result").GetString()))
            .ToList();
        Assert.Equal([("PUSH", digest, "only", Repo, "SUCCESS"), ("DELETE", digest, "only", Repo, "SUCCESS")], actions);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task The_pruning_job_deletes_events_past_retention_and_names_a_consumer_that_lags(string backend)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new CapturedLogs();
        await using var server = await StartAsync(backend, time, logs);
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        using var client = server.CreateClient();
        await Oci.PushImageAsync(client, Repo, "old-1");
        await Oci.PushImageAsync(client, Repo, "old-2");
        time.Advance(TimeSpan.FromDays(8));
        await Oci.PushImageAsync(client, Repo, "new");
        var store = server.GetService<IMetadataStore>();
        var ids = (await store.Events.ListAsync(0, 100, time.GetUtcNow(), Ct)).Select(e => e.Id).ToList();
        Assert.Equal(3, ids.Count);
        await store.Events.AdvanceCursorAsync("webhooks", ids[0], Ct);

        // old-1 is past the retention and passed; old-2 is past it but "webhooks" has not handled it.
        Assert.True(await RunJobAsync(server));
        // (Listed from 0, the pruned ids are a gap the log waits a minute for on PostgreSQL: MaxValue passes it.)
        Assert.Equal(ids[1..], (await store.Events.ListAsync(0, 100, DateTimeOffset.MaxValue, Ct)).Select(e => e.Id));
        var warning = Assert.Single(logs.Entries, e => e.EventId == WharfEventId.EventConsumerLagging);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("webhooks", warning.Message, StringComparison.Ordinal);

        // Once it catches up, the next run prunes what it held, and nothing young.
        await store.Events.AdvanceCursorAsync("webhooks", ids[2], Ct);
        Assert.True(await RunJobAsync(server));
        Assert.Equal([ids[2]], (await store.Events.ListAsync(0, 100, DateTimeOffset.MaxValue, Ct)).Select(e => e.Id));
        Assert.Single(logs.Entries, e => e.EventId == WharfEventId.EventConsumerLagging);
    }

    private static async Task<WharfTestServer> StartAsync(string backend, FakeTimeProvider time, CapturedLogs logs)
    {
        void Services(IServiceCollection s)
        {
            s.AddSingleton<TimeProvider>(time);
            s.AddSingleton<ILoggerProvider>(logs);
        }

        return backend == "postgres"
            ? await WharfTestServer.StartOnPostgresAsync(Settings, Services)
            : await WharfTestServer.StartAsync(Settings, services: Services);
    }

    private static async Task<bool> RunJobAsync(WharfTestServer server) =>
        await server.GetService<JobScheduler>().RunOnceAsync(server.GetService<IEnumerable<IBackgroundJob>>().OfType<EventPruneJob>().Single(), Ct);
}
