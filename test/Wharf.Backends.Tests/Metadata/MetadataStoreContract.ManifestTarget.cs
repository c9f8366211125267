using Wharf.Core.Events;
using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>A manifest write that names its repository by key (<see cref="ManifestWrite.Target"/>): the store finds and decides it inside the write.</summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    public async Task PutManifest_to_a_target_finds_its_repository_by_key_and_writes_as_by_id()
    {
        await using var store = await CreateStoreAsync();
        await CreateRepoAsync(store, "team/other");
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var decided = new List<Repository>();
        var write = Image(0, "one", [layer], tag: "v1") with
        {
            Target = new ManifestTarget(repo.Key, r =>
            {
                decided.Add(r);
                return new ManifestTargetDecision(false, null);
            }),
        };

        var result = await store.Images.PutManifestAsync(write, Ct);

        Assert.True(result is { Succeeded: true, Created: true, TagChanged: true });
        Assert.Equal(repo.Id, Assert.Single(decided).Id);
        AssertManifest(write with { RepositoryId = repo.Id }, await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
    }

    [Fact]
    public async Task PutManifest_to_a_missing_target_writes_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var decided = 0;
        var write = Image(0, "one", [layer], tag: "v1") with
        {
            Target = new ManifestTarget(RepoKey("team/none"), _ =>
            {
                decided++;
                return new ManifestTargetDecision(false, null);
            }),
        };

        var result = await store.Images.PutManifestAsync(write, Ct);

        Assert.True(result is { Succeeded: false, RepositoryMissing: true, Created: false });
        Assert.Equal(0, decided);
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        Assert.Empty(await store.Events.ListAsync(0, 10, T0, Ct));
    }

    [Fact]
    public async Task PutManifest_to_a_target_that_decides_nothing_writes_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var write = Image(0, "one", [layer], tag: "v1") with
        {
            Target = new ManifestTarget(repo.Key, _ => null),
            Event = new OutboxEvent("PUSH", "{}", T0),
        };

        var result = await store.Images.PutManifestAsync(write, Ct);

        // Where the engine sent the insert with the repository's read, it is rolled back.
        Assert.True(result is { Succeeded: false, Undecided: true, Created: false });
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
        Assert.Empty(await store.Events.ListAsync(0, 10, T0, Ct));
    }

    [Fact]
    public async Task PutManifest_to_a_target_takes_tag_immutability_and_scan_rule_from_its_decision()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var scan = new PushScanRule(Registry, _ => new PushScanRequest(T0.AddDays(-1)));
        var immutable = new ManifestTarget(repo.Key, _ => new ManifestTargetDecision(true, scan));
        var first = Image(0, "one", [layer], tag: "v1") with { Target = immutable };
        Assert.True((await store.Images.PutManifestAsync(first, Ct)).Succeeded);
        Assert.Equal(ScanStatuses.InProgress, (await store.Scans.GetAsync(repo.Id, first.Digest, Ct))?.Status);

        var second = Image(0, "two", [layer], tag: "v1") with { Target = immutable };
        var refused = await store.Images.PutManifestAsync(second, Ct);

        Assert.True(refused is { Succeeded: false, TagImmutable: true });
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, second.Digest, Ct));
        Assert.Equal(first.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct))?.Digest);

        // The same write, decided mutable, moves the tag.
        var moved = await store.Images.PutManifestAsync(second with { Target = new ManifestTarget(repo.Key, _ => new ManifestTargetDecision(false, null)) }, Ct);
        Assert.True(moved is { Succeeded: true, Created: true, TagChanged: true });
        Assert.Null(await store.Scans.GetAsync(repo.Id, second.Digest, Ct));
    }
}
