using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The one-statement reads of a small request (issue 19): the repository and what the request reads of it, as
/// the two separate reads give them.
/// </summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.FindManifestAsync))]
    public async Task FindManifest_returns_the_repository_with_its_manifest_by_tag_or_digest()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var write = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));

        var byTag = await store.Images.FindManifestAsync(RepoKey("team/app"), Reference.Of(Tag.Parse("v1")), Ct);
        var byDigest = await store.Images.FindManifestAsync(RepoKey("team/app"), Reference.Of(write.Digest), Ct);

        Assert.NotNull(byTag);
        AssertSameRepository(repo, byTag.Value.Repository);
        AssertManifest(write, byTag.Value.Manifest);
        Assert.NotNull(byDigest);
        AssertSameRepository(repo, byDigest.Value.Repository);
        AssertManifest(write, byDigest.Value.Manifest);

        // The repository without the manifest: an unknown tag or digest, or another repository's.
        var unknownTag = await store.Images.FindManifestAsync(RepoKey("team/app"), Reference.Of(Tag.Parse("v2")), Ct);
        AssertSameRepository(repo, unknownTag?.Repository);
        Assert.Null(unknownTag?.Manifest);
        var elsewhere = await store.Images.FindManifestAsync(RepoKey("team/other"), Reference.Of(write.Digest), Ct);
        AssertSameRepository(other, elsewhere?.Repository);
        Assert.Null(elsewhere?.Manifest);
        Assert.Null((await store.Images.FindManifestAsync(RepoKey("team/other"), Reference.Of(Tag.Parse("v1")), Ct))?.Manifest);

        // No repository: null, whatever the reference.
        Assert.Null(await store.Images.FindManifestAsync(RepoKey("team/none"), Reference.Of(Tag.Parse("v1")), Ct));
        Assert.Null(await store.Images.FindManifestAsync(RepoKey("team/none"), Reference.Of(write.Digest), Ct));
        Assert.Null(await store.Images.FindManifestAsync(RepoKey("team/app", new RegistryKey(AccountId.Parse("210987654321"), "us-east-1")), Reference.Of(write.Digest), Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.FindManifestAsync))]
    public async Task FindManifest_follows_a_moved_or_deleted_tag()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        var two = await PutAsync(store, Image(repo.Id, "two", [layer], tag: "v1"));

        AssertManifest(two, (await store.Images.FindManifestAsync(RepoKey("team/app"), Reference.Of(Tag.Parse("v1")), Ct))?.Manifest);

        Assert.True(await store.Images.DeleteTagAsync(repo.Id, "v1", Ct));
        var found = await store.Images.FindManifestAsync(RepoKey("team/app"), Reference.Of(Tag.Parse("v1")), Ct);
        AssertSameRepository(repo, found?.Repository);
        Assert.Null(found?.Manifest);
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.FindLinkedBlobAsync))]
    public async Task FindLinkedBlob_returns_the_repository_with_the_blob_only_while_it_is_live_and_linked()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var digest = BlobDigest("a");
        await store.Blobs.ReserveBlobAsync(digest, 10, T0, Ct);

        var reserved = await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), digest, Ct);
        AssertSameRepository(repo, reserved?.Repository);
        Assert.Null(reserved?.Blob);

        Assert.True(await store.Blobs.LinkBlobAsync(repo.Id, digest, T0.AddMinutes(5), Ct));
        var linked = await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), digest, Ct);
        AssertSameRepository(repo, linked?.Repository);
        Assert.Equal(new BlobRecord(digest, 10, T0.AddMinutes(5)), linked?.Blob);
        var elsewhere = await store.Blobs.FindLinkedBlobAsync(RepoKey("team/other"), digest, Ct);
        AssertSameRepository(other, elsewhere?.Repository);
        Assert.Null(elsewhere?.Blob);
        Assert.Null(await store.Blobs.FindLinkedBlobAsync(RepoKey("team/none"), digest, Ct));

        // A link alone does not keep a blob: once GC claims it, it is not found.
        Assert.Single(await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct));
        var claimed = await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), digest, Ct);
        AssertSameRepository(repo, claimed?.Repository);
        Assert.Null(claimed?.Blob);
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.FindManifestAsync))]
    public async Task FindManifest_repeated_sees_every_change_made_through_another_store_on_the_same_database()
    {
        // Another process or node: SQLite's read cache must see its commits at once (the WAL-index stamp), PostgreSQL's
        // within its bound (AfterOtherStoreAsync).
        await using var store = await CreateStoreAsync();
        await using var other = await OpenAgainAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var one = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        var v1 = Reference.Of(Tag.Parse("v1"));
        for (var i = 0; i < 3; i++)
        {
            AssertManifest(one, (await store.Images.FindManifestAsync(RepoKey("team/app"), v1, Ct))?.Manifest);
        }

        // The tag moved, then deleted, by the other store.
        var two = await PutAsync(other, Image(repo.Id, "two", [layer], tag: "v1"));
        await AfterOtherStoreAsync();
        AssertManifest(two, (await store.Images.FindManifestAsync(RepoKey("team/app"), v1, Ct))?.Manifest);
        Assert.True(await other.Images.DeleteTagAsync(repo.Id, "v1", Ct));
        await AfterOtherStoreAsync();
        var untagged = await store.Images.FindManifestAsync(RepoKey("team/app"), v1, Ct);
        AssertSameRepository(repo, untagged?.Repository);
        Assert.Null(untagged?.Manifest);

        // By digest: deleted by the other store, then the repository deleted and created again under the same name.
        var byDigest = Reference.Of(two.Digest);
        AssertManifest(two, (await store.Images.FindManifestAsync(RepoKey("team/app"), byDigest, Ct))?.Manifest);
        Assert.Equal(DeleteManifestResult.Deleted, await other.Images.DeleteManifestAsync(repo.Id, two.Digest, null, Ct));
        await AfterOtherStoreAsync();
        Assert.Null((await store.Images.FindManifestAsync(RepoKey("team/app"), byDigest, Ct))?.Manifest);
        Assert.True(await other.Repositories.DeleteAsync(repo.Id, Ct));
        await AfterOtherStoreAsync();
        Assert.Null(await store.Images.FindManifestAsync(RepoKey("team/app"), v1, Ct));
        var again = await CreateRepoAsync(other);
        await AfterOtherStoreAsync();
        Assert.NotEqual(repo.Id, again.Id);
        var found = await store.Images.FindManifestAsync(RepoKey("team/app"), v1, Ct);
        AssertSameRepository(again, found?.Repository);
        Assert.Null(found?.Manifest);
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.FindLinkedBlobAsync))]
    public async Task FindLinkedBlob_repeated_sees_an_unlink_and_a_gc_claim_made_through_another_store()
    {
        await using var store = await CreateStoreAsync();
        await using var other = await OpenAgainAsync();
        var repo = await CreateRepoAsync(store);
        var kept = await UploadBlobAsync(store, repo.Id, "kept");
        var gone = await UploadBlobAsync(store, repo.Id, "gone");
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull((await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), kept, Ct))?.Blob);
            Assert.NotNull((await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), gone, Ct))?.Blob);
        }

        Assert.True(await other.Blobs.UnlinkBlobAsync(repo.Id, gone, Ct));
        await AfterOtherStoreAsync();
        Assert.Null((await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), gone, Ct))?.Blob);

        // GC in another process claims the linked blob (a link alone does not keep it).
        Assert.Equal(2, (await other.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct)).Count);
        await AfterOtherStoreAsync();
        Assert.Null((await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), kept, Ct))?.Blob);
    }

    private static void AssertSameRepository(Repository expected, Repository? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal((expected.Id, expected.Key, expected.CreatedAt, expected.Settings.ScanOnPush, expected.Policy), (actual.Id, actual.Key, actual.CreatedAt, actual.Settings.ScanOnPush, actual.Policy));
    }
}
