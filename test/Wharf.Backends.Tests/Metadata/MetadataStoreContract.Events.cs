using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Metadata.Relational;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    /// <summary>Begins a write of the store's database, outside the store, that appends <paramref name="evt"/> and stays open.</summary>
    private protected abstract Task<OpenEventWrite> BeginEventWriteAsync(IMetadataStore store, OutboxEvent evt);

    /// <summary>Whether the engine's ids commit in their order (one writer at a time), so no gap is ever waited for.</summary>
    private protected abstract bool IdsCommitInOrder { get; }

    private static OutboxEvent Recorded(string what, DateTimeOffset? at = null) => new("ECR Image Action", $"{{\"what\":\"{what}\"}}", at ?? T0);

    private static async Task<List<string>> PayloadsAsync(IMetadataStore store, DateTimeOffset now, long after = 0) =>
        [.. (await store.Events.ListAsync(after, 100, now, Ct)).Select(e => e.Payload)];

    /// <summary>A push through the store that records <paramref name="what"/>.</summary>
    private static Task<ManifestWrite> PushRecordingAsync(IMetadataStore store, long repositoryId, string what, DateTimeOffset? at = null) =>
        PutAsync(store, Image(repositoryId, what, [], tag: what) with { Event = Recorded(what, at) });

    [Fact]
    [Covers(typeof(IEventLog), nameof(IEventLog.ListAsync))]
    public async Task Events_are_listed_in_order_after_a_position_up_to_the_limit()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        foreach (var what in new[] { "a", "b", "c" })
        {
            await PushRecordingAsync(store, repo.Id, what);
        }

        var all = await store.Events.ListAsync(0, 100, T0, Ct);
        Assert.Equal(["{\"what\":\"a\"}", "{\"what\":\"b\"}", "{\"what\":\"c\"}"], all.Select(e => e.Payload));
        Assert.Equal(("ECR Image Action", T0), (all[0].Type, all[0].At));
        Assert.Equal(["{\"what\":\"b\"}"], (await store.Events.ListAsync(all[0].Id, 1, T0, Ct)).Select(e => e.Payload));
        Assert.Empty(await store.Events.ListAsync(all[2].Id, 100, T0, Ct));
    }

    [Fact]
    [Covers(typeof(IEventLog), nameof(IEventLog.ListAsync))]
    public async Task An_event_after_a_write_still_open_is_withheld_until_that_write_commits_or_the_wait_passes()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await using var open = await BeginEventWriteAsync(store, Recorded("open"));
        var later = Task.Run(() => PushRecordingAsync(store, repo.Id, "later"), Ct);
        if (IdsCommitInOrder)
        {
            // One writer at a time: the later write cannot commit before the open one, so no gap can appear.
            await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
            Assert.False(later.IsCompleted);
            Assert.Empty(await PayloadsAsync(store, T0));
        }
        else
        {
            // The later write took the next id and committed first: the gap before it may still fill.
            await later;
            Assert.Empty(await PayloadsAsync(store, T0));
            Assert.Empty(await PayloadsAsync(store, T0 + EventLog.GapWait - TimeSpan.FromMilliseconds(1)));
            Assert.Equal(["{\"what\":\"later\"}"], await PayloadsAsync(store, T0 + EventLog.GapWait));
        }

        await open.CommitAsync(Ct);
        await later;
        Assert.Equal(["{\"what\":\"open\"}", "{\"what\":\"later\"}"], await PayloadsAsync(store, T0));
    }

    [Fact]
    public async Task An_event_appended_in_a_write_that_rolls_back_is_never_listed_and_its_gap_is_passed_after_the_wait()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await using (var open = await BeginEventWriteAsync(store, Recorded("rolled back")))
        {
            await open.RollbackAsync(Ct);
        }

        await PushRecordingAsync(store, repo.Id, "after");

        // Where ids may commit out of order, the rolled-back id is a gap like a write still committing.
        Assert.Equal(IdsCommitInOrder ? ["{\"what\":\"after\"}"] : [], await PayloadsAsync(store, T0));
        Assert.Equal(["{\"what\":\"after\"}"], await PayloadsAsync(store, T0 + EventLog.GapWait));
    }

    [Fact]
    [Covers(typeof(IEventLog), nameof(IEventLog.GetCursorAsync))]
    [Covers(typeof(IEventLog), nameof(IEventLog.AdvanceCursorAsync))]
    public async Task Cursors_are_named_start_at_zero_and_never_move_back()
    {
        await using var store = await CreateStoreAsync();
        Assert.Equal(0, await store.Events.GetCursorAsync("scan-on-push", Ct));
        await store.Events.AdvanceCursorAsync("scan-on-push", 41, Ct);
        await store.Events.AdvanceCursorAsync("scan-on-push", 42, Ct);
        await store.Events.AdvanceCursorAsync("scan-on-push", 7, Ct);
        Assert.Equal(42, await store.Events.GetCursorAsync("scan-on-push", Ct));
        Assert.Equal(0, await store.Events.GetCursorAsync("other", Ct));
    }

    [Fact]
    [Covers(typeof(IEventLog), nameof(IEventLog.PruneAsync))]
    public async Task Pruning_deletes_old_events_every_consumer_passed_and_keeps_those_a_lagging_consumer_needs()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await PushRecordingAsync(store, repo.Id, "old-1");
        await PushRecordingAsync(store, repo.Id, "old-2");
        await PushRecordingAsync(store, repo.Id, "new", T0.AddDays(10));
        var ids = (await store.Events.ListAsync(0, 100, T0, Ct)).Select(e => e.Id).ToList();
        await store.Events.AdvanceCursorAsync("fast", ids[2], Ct);
        await store.Events.AdvanceCursorAsync("slow", ids[0], Ct);
        var retention = T0.AddDays(7);

        // old-1 is old and passed by both; old-2 is old but "slow" has not handled it; "new" is recent.
        var first = await store.Events.PruneAsync(retention, Ct);
        Assert.Equal(1, first.Deleted);
        Assert.Equal([new EventCursor("slow", ids[0])], first.Lagging);
        Assert.Equal(["{\"what\":\"old-2\"}", "{\"what\":\"new\"}"], await PayloadsAsync(store, T0.AddDays(10), ids[0]));

        await store.Events.AdvanceCursorAsync("slow", ids[2], Ct);
        var second = await store.Events.PruneAsync(retention, Ct);
        Assert.Equal((1, 0), (second.Deleted, second.Lagging.Count));
        // Listed from 0, the pruned ids are a gap like any other: passed once the wait is over.
        Assert.Equal(["{\"what\":\"new\"}"], await PayloadsAsync(store, T0.AddDays(10) + EventLog.GapWait));
    }

    [Fact]
    public async Task Without_consumers_pruning_goes_by_age_alone()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await PushRecordingAsync(store, repo.Id, "old");
        await PushRecordingAsync(store, repo.Id, "new", T0.AddDays(8));
        var pruned = await store.Events.PruneAsync(T0.AddDays(7), Ct);
        Assert.Equal((1, 0), (pruned.Deleted, pruned.Lagging.Count));
        Assert.Equal(["{\"what\":\"new\"}"], await PayloadsAsync(store, T0.AddDays(8) + EventLog.GapWait));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.DeleteTagAsync), Parameters = 4)]
    [Covers(typeof(IImageStore), nameof(IImageStore.UntagImageAsync), Parameters = 4)]
    public async Task Removing_a_tag_records_the_event_of_the_digest_it_named_with_the_removal()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var image = await PutAsync(store, Image(repo.Id, "image", [], tag: "a"));
        await PutAsync(store, image with { Tag = "b" });

        // /v2 DELETE by tag removes only the tag; BatchDeleteImage's last tag takes the image with it.
        Assert.True(await store.Images.DeleteTagAsync(repo.Id, "a", d => Recorded($"a {d}"), Ct));
        Assert.False(await store.Images.DeleteTagAsync(repo.Id, "a", d => Recorded("absent"), Ct));
        var untagged = await store.Images.UntagImageAsync(repo.Id, "b", d => Recorded($"b {d}"), Ct);
        Assert.Equal((true, image.Digest, true), (untagged.Found, untagged.Digest, untagged.ImageDeleted));
        Assert.False((await store.Images.UntagImageAsync(repo.Id, "b", d => Recorded("absent"), Ct)).Found);
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, image.Digest, Ct));
        Assert.Equal([$"{{\"what\":\"a {image.Digest}\"}}", $"{{\"what\":\"b {image.Digest}\"}}"], await PayloadsAsync(store, T0));
    }
}
