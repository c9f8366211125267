using Wharf.Core.Lifecycle;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>What lifecycle policies need of every backend: policies, previews, the evaluator's view of images, guarded actions with their events, storage classes; and the outbox events of pushes and deletions.</summary>
public abstract partial class MetadataStoreContract
{
    private static OutboxEvent Event(string what) => new("ECR Image Action", $"{{\"what\":\"{what}\"}}", T0);

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.SetPolicyAsync))]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.GetPolicyAsync))]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.ListTargetsAsync))]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.MarkEvaluatedAsync))]
    public async Task Lifecycle_policies_are_kept_per_repository_and_listed_as_targets()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await CreateRepoAsync(store, "team/other");
        Assert.Null(await store.Lifecycle.GetPolicyAsync(repo.Id, Ct));
        Assert.True(await store.Lifecycle.SetPolicyAsync(repo.Id, "{\"rules\":[]}", Ct));
        Assert.Equal(new LifecyclePolicyRecord("{\"rules\":[]}", null), await store.Lifecycle.GetPolicyAsync(repo.Id, Ct));
        var target = Assert.Single(await store.Lifecycle.ListTargetsAsync(Ct));
        Assert.Equal((repo.Id, RepoKey("team/app"), "{\"rules\":[]}"), (target.RepositoryId, target.Key, target.Policy));

        await store.Lifecycle.MarkEvaluatedAsync(repo.Id, T0.AddHours(1), Ct);
        Assert.Equal(T0.AddHours(1), (await store.Lifecycle.GetPolicyAsync(repo.Id, Ct))!.LastEvaluatedAt);
        Assert.True(await store.Lifecycle.SetPolicyAsync(repo.Id, null, Ct));
        Assert.Null(await store.Lifecycle.GetPolicyAsync(repo.Id, Ct));
        Assert.Empty(await store.Lifecycle.ListTargetsAsync(Ct));
        Assert.False(await store.Lifecycle.SetPolicyAsync(999_999, "{}", Ct));
    }

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.ListImagesAsync))]
    public async Task The_evaluator_sees_tags_push_pull_storage_and_index_membership()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var tagged = await PutAsync(store, Image(repo.Id, "tagged", [layer], tag: "v1", now: T0));
        await PutAsync(store, Image(repo.Id, "tagged", [layer], tag: "latest", now: T0.AddMinutes(5)));
        var child = await PutAsync(store, Image(repo.Id, "child", [layer], now: T0.AddMinutes(1)));
        await PutAsync(store, Index(repo.Id, "index", [child.Digest], tag: "multi", now: T0.AddMinutes(2)));
        await store.Images.RecordPullsAsync([new PullRecord(repo.Id, tagged.Digest, T0.AddHours(3))], Ct);

        var images = (await AllLifecycleImagesAsync(store, repo.Id)).ToDictionary(i => i.Digest);
        Assert.Equal(3, images.Count);
        Assert.Equal(["latest", "v1"], images[tagged.Digest].Tags.Order(StringComparer.Ordinal));
        Assert.Equal(T0, images[tagged.Digest].PushedAt);
        Assert.Equal(T0.AddHours(3), images[tagged.Digest].LastPulledAt);
        Assert.Equal((StorageClass.Standard, false), (images[tagged.Digest].StorageClass, images[tagged.Digest].InIndex));
        Assert.Equal((true, 0), (images[child.Digest].InIndex, images[child.Digest].Tags.Count));
    }

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.ListImagesAsync))]
    public async Task The_evaluators_pages_walk_every_image_once_in_either_order_with_its_own_tags()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");

        // Nine images: three pushed at the same instant (ties go by digest), tags on some, one restored from the
        // archive (ranked by its restore), and an image in another repository that no page may show.
        var pushed = new List<ManifestWrite>();
        for (var i = 0; i < 9; i++)
        {
            var at = i < 3 ? T0 : T0.AddMinutes(i);
            pushed.Add(await PutAsync(store, Image(repo.Id, $"image-{i}", [layer], tag: i % 2 == 0 ? $"t{i}" : null, now: at)));
            if (i % 4 == 0)
            {
                await PutAsync(store, Image(repo.Id, $"image-{i}", [layer], tag: $"also-{i}", now: at));
            }
        }

        var otherRepo = (await store.Repositories.GetAsync(RepoKey("team/other"), Ct))!.Id;
        await PutAsync(store, Image(otherRepo, "elsewhere", [await UploadBlobAsync(store, otherRepo, "other-layer")], tag: "t0"));
        var first = pushed[1].Digest;
        var planned = (await AllLifecycleImagesAsync(store, repo.Id)).Single(i => i.Digest == first);
        Assert.Equal(LifecycleApplyResult.Applied, await store.Lifecycle.SetStorageClassAsync(repo.Id, first, StorageClass.Archive, planned, Event("archive"), Ct));
        await PutAsync(store, Image(repo.Id, "image-1", [layer], now: T0.AddHours(1))); // restored: the youngest by rank

        foreach (var limit in new[] { 1, 2, 4, 100 })
        {
            var youngest = await AllLifecycleImagesAsync(store, repo.Id, LifecycleImageOrder.YoungestFirst, limit);
            Assert.Equal(
                youngest.Order(LifecycleEvaluator.YoungestFirst).Select(i => i.Digest),
                youngest.Select(i => i.Digest));
            Assert.Equal(first, youngest[0].Digest);
            Assert.Equal(pushed.Select(w => w.Digest.ToString()).Order(StringComparer.Ordinal), youngest.Select(i => i.Digest.ToString()).Order(StringComparer.Ordinal));

            var oldest = await AllLifecycleImagesAsync(store, repo.Id, LifecycleImageOrder.OldestPushedFirst, limit);
            Assert.Equal(
                pushed.OrderBy(w => w.Now).ThenBy(w => w.Digest.ToString(), StringComparer.Ordinal).Select(w => w.Digest.ToString()),
                oldest.Select(i => i.Digest.ToString()));
            foreach (var image in oldest)
            {
                var i = pushed.FindIndex(w => w.Digest == image.Digest);
                string[] tags = [.. new[] { i % 4 == 0 ? $"also-{i}" : null, i % 2 == 0 ? $"t{i}" : null }.OfType<string>()];
                Assert.Equal(tags, image.Tags);
            }
        }
    }

    // Every image of the repository, read in pages as the evaluator reads them.
    private static async Task<List<LifecycleImage>> AllLifecycleImagesAsync(IMetadataStore store, long repositoryId, LifecycleImageOrder order = LifecycleImageOrder.YoungestFirst, int limit = 2)
    {
        var all = new List<LifecycleImage>();
        while (true)
        {
            var page = await store.Lifecycle.ListImagesAsync(repositoryId, order, all.Count == 0 ? null : all[^1], limit, Ct);
            Assert.True(page.Count <= limit);
            all.AddRange(page);
            if (page.Count < limit)
            {
                return all;
            }
        }
    }

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.ExpireAsync))]
    public async Task Expiry_applies_only_to_an_unchanged_image_and_records_its_event_with_it()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var one = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        var two = await PutAsync(store, Image(repo.Id, "two", [layer], tag: "v2"));
        var child = await PutAsync(store, Image(repo.Id, "child", [layer]));
        await PutAsync(store, Index(repo.Id, "index", [child.Digest], tag: "multi"));
        var planned = (await AllLifecycleImagesAsync(store, repo.Id)).ToDictionary(i => i.Digest);

        // Re-tagged after the plan: the stale plan must not delete it.
        await PutAsync(store, Image(repo.Id, "two", [layer], tag: "release"));
        Assert.Equal(LifecycleApplyResult.Changed, await store.Lifecycle.ExpireAsync(repo.Id, planned[two.Digest], Event("two"), Ct));
        Assert.Equal(LifecycleApplyResult.ReferencedByIndex, await store.Lifecycle.ExpireAsync(repo.Id, planned[child.Digest], Event("child"), Ct));
        Assert.Empty(await store.Events.ListAsync(0, 10, DateTimeOffset.MaxValue, Ct));

        Assert.Equal(LifecycleApplyResult.Applied, await store.Lifecycle.ExpireAsync(repo.Id, planned[one.Digest], Event("one"), Ct));
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, one.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        Assert.Equal(LifecycleApplyResult.NotFound, await store.Lifecycle.ExpireAsync(repo.Id, planned[one.Digest], Event("again"), Ct));
        var recorded = Assert.Single(await store.Events.ListAsync(0, 10, DateTimeOffset.MaxValue, Ct));
        Assert.Equal(("ECR Image Action", "{\"what\":\"one\"}"), (recorded.Type, recorded.Payload));
        Assert.Empty(await store.Events.ListAsync(recorded.Id, 10, DateTimeOffset.MaxValue, Ct));
        Assert.NotNull(await store.Images.GetManifestAsync(repo.Id, two.Digest, Ct));
    }

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.SetStorageClassAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.DescribeImagesAsync), Parameters = 6)]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListImageIdsAsync), Parameters = 6)]
    public async Task Archived_images_are_flagged_filtered_and_restored_by_a_push()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var old = await PutAsync(store, Image(repo.Id, "old", [layer], tag: "old"));
        var fresh = await PutAsync(store, Image(repo.Id, "fresh", [layer], tag: "fresh"));
        var planned = (await AllLifecycleImagesAsync(store, repo.Id)).Single(i => i.Digest == old.Digest);

        var archivedAt = T0.AddDays(1);
        Assert.Equal(LifecycleApplyResult.Applied, await store.Lifecycle.SetStorageClassAsync(repo.Id, old.Digest, StorageClass.Archive, planned, new OutboxEvent("ECR Image Action", "{}", archivedAt), Ct));
        Assert.True((await store.Images.GetManifestByTagAsync(repo.Id, "old", Ct))!.Archived);
        Assert.False((await store.Images.GetManifestByTagAsync(repo.Id, "fresh", Ct))!.Archived);
        var seen = (await AllLifecycleImagesAsync(store, repo.Id)).Single(i => i.Digest == old.Digest);
        Assert.Equal((StorageClass.Archive, archivedAt), (seen.StorageClass, seen.ArchivedAt));

        // Listings show active images unless asked otherwise.
        Assert.Equal([fresh.Digest], (await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, null, 10, Ct)).Select(i => i.Digest));
        var archived = Assert.Single(await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, ImageStatusFilter.Archived, null, 10, Ct));
        Assert.Equal((old.Digest, true, archivedAt), (archived.Digest, archived.Archived, archived.ArchivedAt));
        Assert.Equal(2, (await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, ImageStatusFilter.Any, null, 10, Ct)).Count);
        Assert.Empty(await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, ImageStatusFilter.Activating, null, 10, Ct));
        Assert.Equal(["fresh"], (await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Tagged, null, 10, Ct)).Select(i => i.Tag));
        Assert.Equal(["old"], (await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Tagged, ImageStatusFilter.Archived, null, 10, Ct)).Select(i => i.Tag));

        // A second archive changes nothing and records nothing; pushing the image again restores it.
        Assert.Equal(LifecycleApplyResult.Changed, await store.Lifecycle.SetStorageClassAsync(repo.Id, old.Digest, StorageClass.Archive, planned, Event("stale"), Ct));
        Assert.Single(await store.Events.ListAsync(0, 10, DateTimeOffset.MaxValue, Ct));
        await PutAsync(store, Image(repo.Id, "old", [layer], tag: "old", now: T0.AddDays(2)));
        var restored = (await AllLifecycleImagesAsync(store, repo.Id)).Single(i => i.Digest == old.Digest);
        Assert.Equal((StorageClass.Standard, T0.AddDays(2), T0), (restored.StorageClass, restored.ActivatedAt, restored.PushedAt));

        // Archive and restore without a plan (UpdateImageStorageClass).
        Assert.Equal(LifecycleApplyResult.Applied, await store.Lifecycle.SetStorageClassAsync(repo.Id, fresh.Digest, StorageClass.Archive, null, Event("archive"), Ct));
        Assert.Equal(LifecycleApplyResult.Applied, await store.Lifecycle.SetStorageClassAsync(repo.Id, fresh.Digest, StorageClass.Standard, null, Event("restore"), Ct));
        Assert.False((await store.Images.GetManifestAsync(repo.Id, fresh.Digest, Ct))!.Archived);
        Assert.Equal(3, (await store.Events.ListAsync(0, 10, DateTimeOffset.MaxValue, Ct)).Count);
    }

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.TryStartPreviewAsync))]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.CompletePreviewAsync))]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.GetPreviewAsync))]
    public async Task One_preview_runs_at_a_time_unless_it_was_abandoned()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        Assert.Null(await store.Lifecycle.GetPreviewAsync(repo.Id, Ct));
        Assert.True(await store.Lifecycle.TryStartPreviewAsync(repo.Id, "p1", T0, T0.AddMinutes(-5), Ct));
        Assert.Equal(new LifecyclePreviewRecord("p1", "IN_PROGRESS", null, T0), await store.Lifecycle.GetPreviewAsync(repo.Id, Ct));
        Assert.False(await store.Lifecycle.TryStartPreviewAsync(repo.Id, "p2", T0.AddMinutes(1), T0.AddMinutes(-4), Ct));
        await store.Lifecycle.CompletePreviewAsync(repo.Id, "COMPLETE", "[]", Ct);
        Assert.Equal(new LifecyclePreviewRecord("p1", "COMPLETE", "[]", T0), await store.Lifecycle.GetPreviewAsync(repo.Id, Ct));
        Assert.True(await store.Lifecycle.TryStartPreviewAsync(repo.Id, "p2", T0.AddMinutes(2), T0.AddMinutes(-3), Ct));
        Assert.True(await store.Lifecycle.TryStartPreviewAsync(repo.Id, "p3", T0.AddMinutes(10), T0.AddMinutes(5), Ct)); // p2 abandoned
        Assert.Equal("p3", (await store.Lifecycle.GetPreviewAsync(repo.Id, Ct))!.Policy);
    }

    [Fact]
    public async Task A_push_that_changes_something_and_a_deletion_record_their_events()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var write = Image(repo.Id, "pushed", [layer], tag: "v1") with { Event = Event("push v1") };
        await PutAsync(store, write);
        await PutAsync(store, write with { Event = Event("same again") }); // nothing changed: no event
        await PutAsync(store, write with { Tag = "v2", Event = Event("push v2") });
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, write.Digest, Event("delete"), Ct));
        Assert.Equal(DeleteManifestResult.NotFound, await store.Images.DeleteManifestAsync(repo.Id, write.Digest, Event("delete again"), Ct));
        Assert.Equal(
            ["{\"what\":\"push v1\"}", "{\"what\":\"push v2\"}", "{\"what\":\"delete\"}"],
            (await store.Events.ListAsync(0, 10, DateTimeOffset.MaxValue, Ct)).Select(e => e.Payload));
    }

    [Fact]
    [Covers(typeof(ILifecycleStore), nameof(ILifecycleStore.TryStartPreviewAsync))]
    public async Task Concurrent_preview_starts_let_exactly_one_run()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        var started = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Lifecycle.TryStartPreviewAsync(repo.Id, $"p{i}", T0, T0.AddMinutes(-5), Ct))));

        var winner = Assert.Single(started.Select((s, i) => (s, i)), p => p.s);
        Assert.Equal(new LifecyclePreviewRecord($"p{winner.i}", "IN_PROGRESS", null, T0), await store.Lifecycle.GetPreviewAsync(repo.Id, Ct));
    }
}
