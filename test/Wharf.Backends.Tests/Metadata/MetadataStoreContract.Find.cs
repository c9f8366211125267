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

    private static void AssertSameRepository(Repository expected, Repository? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal((expected.Id, expected.Key, expected.CreatedAt, expected.Settings.ScanOnPush, expected.Policy), (actual.Id, actual.Key, actual.CreatedAt, actual.Settings.ScanOnPush, actual.Policy));
    }
}
