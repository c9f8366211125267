using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>What image scans need of every backend: one request a day, a queue, results with their event, and continuous rescans.</summary>
public abstract partial class MetadataStoreContract
{
    private static ScanFinding Finding(string name, string severity) =>
        new(name, null, "d", null, severity, "libssl3", "3.0.7-r0", "openssl", "OS", "lib/apk/db/installed", "sha256:" + new string('a', 64), "3.0.8-r0", null, null, null, null, "ALPINE", []);

    [Fact]
    [Covers(typeof(IScanStore), nameof(IScanStore.RequestAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.ListPendingAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.CountPendingAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.CompleteAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.GetAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.GetSummariesAsync))]
    public async Task A_scan_is_requested_once_a_day_queued_completed_with_its_event_and_gone_with_its_image()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var image = await PutAsync(store, Image(repo.Id, "scanned", [await UploadBlobAsync(store, repo.Id, "layer")], tag: "v1"));
        var other = await PutAsync(store, Image(repo.Id, "other", [], tag: "v2"));
        Assert.Equal(ScanRequestResult.ImageNotFound, await store.Scans.RequestAsync(repo.Id, BlobDigest("absent"), T0, null, Ct));
        Assert.Null(await store.Scans.GetAsync(repo.Id, image.Digest, Ct));

        Assert.Equal(ScanRequestResult.Requested, await store.Scans.RequestAsync(repo.Id, image.Digest, T0, T0.AddDays(-1), Ct));
        Assert.Equal(ScanRequestResult.TooSoon, await store.Scans.RequestAsync(repo.Id, image.Digest, T0.AddHours(23), T0.AddHours(-1), Ct));
        Assert.Equal(ScanRequestResult.Requested, await store.Scans.RequestAsync(repo.Id, other.Digest, T0.AddMinutes(1), null, Ct));
        Assert.Equal(2, await store.Scans.CountPendingAsync(Ct));
        var pending = await store.Scans.ListPendingAsync(10, Ct);
        Assert.Equal([image.Digest, other.Digest], pending.Select(p => p.Digest));
        Assert.Equal(RepoKey("team/app"), pending[0].Key);
        Assert.Equal(ScanStatuses.InProgress, (await store.Scans.GetAsync(repo.Id, image.Digest, Ct))!.Status);

        // A result for a request that was replaced meanwhile is not recorded.
        ScanFinding[] findings = [Finding("CVE-2023-0286", "HIGH"), Finding("CVE-2023-0215", "HIGH"), Finding("CVE-2019-1", "LOW")];
        var outcome = new ScanOutcome(ScanStatuses.Complete, "done", T0.AddMinutes(2), T0.AddDays(-3), T0.AddDays(-1), findings);
        Assert.False(await store.Scans.CompleteAsync(repo.Id, image.Digest, T0.AddSeconds(1), outcome, new OutboxEvent("ECR Image Scan", "{\"stale\":true}", T0), Ct));
        Assert.True(await store.Scans.CompleteAsync(repo.Id, image.Digest, T0, outcome, new OutboxEvent("ECR Image Scan", "{\"n\":1}", T0.AddMinutes(2)), Ct));
        Assert.False(await store.Scans.CompleteAsync(repo.Id, image.Digest, T0, outcome, null, Ct)); // once only

        var scan = (await store.Scans.GetAsync(repo.Id, image.Digest, Ct))!;
        Assert.Equal(ScanStatuses.Complete, scan.Status);
        Assert.Equal("done", scan.Description);
        Assert.Equal(T0, scan.RequestedAt);
        Assert.Equal(T0.AddMinutes(2), scan.CompletedAt);
        Assert.Equal(T0.AddDays(-3), scan.SourceUpdatedAt);
        Assert.Equal(T0.AddDays(-1), scan.DatabaseAt);
        Assert.Equal(new Dictionary<string, int> { ["HIGH"] = 2, ["LOW"] = 1 }, scan.SeverityCounts);
        Assert.Equal(ScanFinding.Serialize(findings), ScanFinding.Serialize(ScanFinding.Deserialize(scan.FindingsJson))); // the lists inside compare by content only when serialised
        Assert.Equal(["{\"n\":1}"], (await store.Events.ListAsync(0, 100, DateTimeOffset.MaxValue, Ct)).Where(e => e.Type == "ECR Image Scan").Select(e => e.Payload));
        Assert.Equal([other.Digest], (await store.Scans.ListPendingAsync(10, Ct)).Select(p => p.Digest));
        Assert.Equal(1, await store.Scans.CountPendingAsync(Ct));

        var summaries = await store.Scans.GetSummariesAsync(repo.Id, [image.Digest, other.Digest, BlobDigest("absent")], Ct);
        Assert.Equal(2, summaries.Count);
        Assert.All(summaries, s => Assert.Null(s.FindingsJson));
        Assert.Empty(await store.Scans.GetSummariesAsync(repo.Id, [], Ct));

        // A day later it may be requested again; deleting the image deletes its scan.
        Assert.Equal(ScanRequestResult.Requested, await store.Scans.RequestAsync(repo.Id, image.Digest, T0.AddHours(25), T0.AddHours(1), Ct));
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, image.Digest, Ct));
        Assert.Null(await store.Scans.GetAsync(repo.Id, image.Digest, Ct));
        Assert.Equal([other.Digest], (await store.Scans.ListPendingAsync(10, Ct)).Select(p => p.Digest));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.RequestAsync))]
    public async Task A_push_that_scans_on_push_commits_its_scan_in_progress_with_the_manifest_once_a_day()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var scanned = Image(repo.Id, "scanned", [layer], tag: "v1") with { Scan = new PushScanRequest(T0.AddDays(-1)) };
        await PutAsync(store, scanned);
        var scan = await store.Scans.GetAsync(repo.Id, scanned.Digest, Ct);
        Assert.Equal(ScanStatuses.InProgress, scan?.Status);
        Assert.Equal(T0, scan!.RequestedAt);
        Assert.Equal([scanned.Digest], (await store.Scans.ListPendingAsync(10, Ct)).Select(p => p.Digest));

        // The scan job, finding it requested by the push, does not request it again.
        Assert.Equal(ScanRequestResult.TooSoon, await store.Scans.RequestAsync(repo.Id, scanned.Digest, T0.AddMinutes(1), T0.AddMinutes(1).AddDays(-1), Ct));
        Assert.True(await store.Scans.CompleteAsync(repo.Id, scanned.Digest, T0, new ScanOutcome(ScanStatuses.Complete, null, T0.AddMinutes(1), null, null, []), null, Ct));

        // A tag moved to it within the day keeps the finished scan; a day later it is scanned again.
        await PutAsync(store, scanned with { Tag = "v2", Now = T0.AddHours(1), Scan = new PushScanRequest(T0.AddHours(1).AddDays(-1)) });
        Assert.Equal(ScanStatuses.Complete, (await store.Scans.GetAsync(repo.Id, scanned.Digest, Ct))?.Status);
        await PutAsync(store, scanned with { Tag = "v3", Now = T0.AddDays(2), Scan = new PushScanRequest(T0.AddDays(1)) });
        Assert.Equal((ScanStatuses.InProgress, T0.AddDays(2)), (await store.Scans.GetAsync(repo.Id, scanned.Digest, Ct)) is { } again ? (again.Status, again.RequestedAt) : default);

        // Without a request (the repository does not scan on push), or when the write fails, no scan appears.
        var manual = await PutAsync(store, Image(repo.Id, "manual", [layer], tag: "m"));
        Assert.Null(await store.Scans.GetAsync(repo.Id, manual.Digest, Ct));
        var failed = Image(repo.Id, "failed", [BlobDigest("missing")], tag: "f") with { Scan = new PushScanRequest(T0.AddDays(-1)) };
        Assert.False((await store.Images.PutManifestAsync(failed, Ct)).Succeeded);
        Assert.Null(await store.Scans.GetAsync(repo.Id, failed.Digest, Ct));
    }

    [Fact]
    public async Task A_push_s_scan_rule_decides_from_the_registry_settings_as_they_are_when_it_writes()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var seen = new List<IReadOnlyDictionary<string, string>>();
        PushScanRequest? Decide(IReadOnlyDictionary<string, string> settings)
        {
            seen.Add(settings);
            return settings.GetValueOrDefault("scan") == "on" ? new PushScanRequest(T0.AddDays(-1)) : null;
        }

        // No registry row yet: no settings.
        var before = await PutAsync(store, Image(repo.Id, "before", [layer], tag: "a") with { ScanRule = new PushScanRule(Registry, Decide) });
        Assert.Null(await store.Scans.GetAsync(repo.Id, before.Digest, Ct));

        // A setting written since is read by the next write.
        await store.Repositories.SetRegistrySettingAsync(Registry, "scan", "on", Ct);
        var after = await PutAsync(store, Image(repo.Id, "after", [layer], tag: "b") with { ScanRule = new PushScanRule(Registry, Decide) });
        Assert.Equal(ScanStatuses.InProgress, (await store.Scans.GetAsync(repo.Id, after.Digest, Ct))?.Status);

        // Another registry's settings are not this one's.
        var elsewhere = new RegistryKey(AccountId.Parse("210987654321"), "us-east-1");
        var other = await PutAsync(store, Image(repo.Id, "other", [layer], tag: "c") with { ScanRule = new PushScanRule(elsewhere, Decide) });
        Assert.Null(await store.Scans.GetAsync(repo.Id, other.Digest, Ct));
        Assert.Equal([null, "on", null], seen.Select(d => d.GetValueOrDefault("scan")));
    }

    [Fact]
    [Covers(typeof(IScanStore), nameof(IScanStore.ListStaleAsync))]
    public async Task Stale_scans_are_those_missing_or_made_with_an_older_database()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var images = new List<Digest>();
        foreach (var seed in new[] { "a", "b", "c", "d" })
        {
            images.Add((await PutAsync(store, Image(repo.Id, seed, [], tag: seed))).Digest);
        }

        images.Sort((x, y) => string.CompareOrdinal(x.ToString(), y.ToString()));
        async Task ScanAsync(Digest digest, DateTimeOffset database)
        {
            await store.Scans.RequestAsync(repo.Id, digest, T0, null, Ct);
            Assert.True(await store.Scans.CompleteAsync(repo.Id, digest, T0, new ScanOutcome(ScanStatuses.Complete, null, T0, null, database, []), null, Ct));
        }

        await ScanAsync(images[0], T0.AddDays(-2));
        await ScanAsync(images[1], T0);
        await store.Scans.RequestAsync(repo.Id, images[2], T0, null, Ct); // in progress: not stale, it is running

        // images[3] was never scanned; images[0] used an older database.
        Assert.Equal([images[0], images[3]], await store.Scans.ListStaleAsync(repo.Id, T0.AddDays(-1), null, 10, Ct));
        Assert.Equal([images[3]], await store.Scans.ListStaleAsync(repo.Id, T0.AddDays(-1), images[0], 10, Ct));
        Assert.Equal([images[0]], await store.Scans.ListStaleAsync(repo.Id, T0.AddDays(-1), null, 1, Ct));
        Assert.Equal([images[0], images[1], images[3]], await store.Scans.ListStaleAsync(repo.Id, T0.AddDays(1), null, 10, Ct));
    }

    [Fact]
    [Covers(typeof(IScanStore), nameof(IScanStore.RequestAsync))]
    public async Task Concurrent_scan_requests_within_the_limit_let_exactly_one_through()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var image = await PutAsync(store, Image(repo.Id, "scanned", [], tag: "v1"));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Scans.RequestAsync(repo.Id, image.Digest, T0.AddSeconds(i), T0.AddDays(-1), Ct))));

        Assert.Single(results, r => r == ScanRequestResult.Requested);
        Assert.All(results.Where(r => r != ScanRequestResult.Requested), r => Assert.Equal(ScanRequestResult.TooSoon, r));
        Assert.Single(await store.Scans.ListPendingAsync(10, Ct));
    }
}
