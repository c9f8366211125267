using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ReserveBlobAsync))]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.GetBlobAsync))]
    public async Task Reserve_inserts_a_live_blob_row()
    {
        await using var store = await CreateStoreAsync();
        var digest = BlobDigest("a");

        Assert.Equal(BlobReservation.Reserved, await store.Blobs.ReserveBlobAsync(digest, 1234, T0, Ct));

        Assert.Equal(new BlobRecord(digest, 1234, T0), await store.Blobs.GetBlobAsync(digest, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ReserveBlobAsync))]
    public async Task Reserve_touches_an_existing_live_row()
    {
        await using var store = await CreateStoreAsync();
        var digest = BlobDigest("a");
        await store.Blobs.ReserveBlobAsync(digest, 1234, T0, Ct);

        Assert.Equal(BlobReservation.Reserved, await store.Blobs.ReserveBlobAsync(digest, 1234, T0.AddHours(2), Ct));

        Assert.Equal(new BlobRecord(digest, 1234, T0.AddHours(2)), await store.Blobs.GetBlobAsync(digest, Ct));
        Assert.Empty(await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ReserveBlobAsync))]
    public async Task Reserve_returns_BeingDeleted_for_a_claimed_blob_and_changes_nothing()
    {
        await using var store = await CreateStoreAsync();
        var digest = BlobDigest("a");
        await store.Blobs.ReserveBlobAsync(digest, 10, T0, Ct);
        Assert.Single(await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct));

        Assert.Equal(BlobReservation.BeingDeleted, await store.Blobs.ReserveBlobAsync(digest, 10, T0.AddHours(2), Ct));

        Assert.Equal([new BlobRecord(digest, 10, T0)], await store.Blobs.ListClaimedAsync(10, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ReserveBlobAsync))]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ForgetClaimedAsync))]
    public async Task Reserve_after_ForgetClaimed_inserts_the_row_afresh()
    {
        await using var store = await CreateStoreAsync();
        var digest = BlobDigest("a");
        await store.Blobs.ReserveBlobAsync(digest, 10, T0, Ct);
        await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct);
        await store.Blobs.ForgetClaimedAsync([digest], Ct);

        Assert.Equal(BlobReservation.Reserved, await store.Blobs.ReserveBlobAsync(digest, 10, T0.AddHours(3), Ct));

        Assert.Equal(new BlobRecord(digest, 10, T0.AddHours(3)), await store.Blobs.GetBlobAsync(digest, Ct));
        Assert.Empty(await store.Blobs.ListClaimedAsync(10, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.GetBlobAsync))]
    public async Task GetBlob_returns_null_for_unknown_and_claimed_blobs()
    {
        await using var store = await CreateStoreAsync();
        var digest = BlobDigest("a");
        Assert.Null(await store.Blobs.GetBlobAsync(digest, Ct));
        await store.Blobs.ReserveBlobAsync(digest, 10, T0, Ct);
        await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct);

        Assert.Null(await store.Blobs.GetBlobAsync(digest, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.LinkBlobAsync))]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.GetLinkedBlobAsync))]
    public async Task Link_makes_a_blob_readable_from_that_repository_only()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var digest = BlobDigest("a");
        await store.Blobs.ReserveBlobAsync(digest, 10, T0, Ct);
        Assert.Null(await store.Blobs.GetLinkedBlobAsync(repo.Id, digest, Ct));

        Assert.True(await store.Blobs.LinkBlobAsync(repo.Id, digest, T0.AddMinutes(5), Ct));

        Assert.Equal(new BlobRecord(digest, 10, T0.AddMinutes(5)), await store.Blobs.GetLinkedBlobAsync(repo.Id, digest, Ct));
        Assert.Null(await store.Blobs.GetLinkedBlobAsync(other.Id, digest, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.LinkBlobAsync))]
    public async Task Link_is_idempotent_and_touches_the_blob()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var digest = await UploadBlobAsync(store, repo.Id, "a");

        Assert.True(await store.Blobs.LinkBlobAsync(repo.Id, digest, T0.AddHours(5), Ct));

        Assert.Equal(T0.AddHours(5), (await store.Blobs.GetBlobAsync(digest, Ct))!.TouchedAt);
        Assert.Empty(await store.Blobs.ClaimGarbageAsync(T0.AddHours(4), 10, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.LinkBlobAsync))]
    public async Task Link_returns_false_for_an_unknown_blob()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        Assert.False(await store.Blobs.LinkBlobAsync(repo.Id, BlobDigest("nope"), T0, Ct));
        Assert.Null(await store.Blobs.GetLinkedBlobAsync(repo.Id, BlobDigest("nope"), Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.LinkBlobAsync))]
    public async Task Link_returns_false_for_a_claimed_blob()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var digest = BlobDigest("a");
        await store.Blobs.ReserveBlobAsync(digest, 10, T0, Ct);
        await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct);

        Assert.False(await store.Blobs.LinkBlobAsync(repo.Id, digest, T0.AddHours(2), Ct));
        Assert.Null(await store.Blobs.GetLinkedBlobAsync(repo.Id, digest, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.GetLinkedBlobAsync))]
    public async Task GetLinkedBlob_returns_null_once_the_blob_is_claimed()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var digest = await UploadBlobAsync(store, repo.Id, "a");

        // A link alone does not protect a blob: only manifest references do (plus the grace window).
        Assert.Single(await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct));

        Assert.Null(await store.Blobs.GetLinkedBlobAsync(repo.Id, digest, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.UnlinkBlobAsync))]
    public async Task Unlink_removes_only_that_repositorys_link()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var digest = await UploadBlobAsync(store, repo.Id, "a");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, digest, T0, Ct));

        Assert.True(await store.Blobs.UnlinkBlobAsync(repo.Id, digest, Ct));

        Assert.Null(await store.Blobs.GetLinkedBlobAsync(repo.Id, digest, Ct));
        Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(other.Id, digest, Ct));
        Assert.NotNull(await store.Blobs.GetBlobAsync(digest, Ct));
        Assert.False(await store.Blobs.UnlinkBlobAsync(repo.Id, digest, Ct));
        Assert.False(await store.Blobs.UnlinkBlobAsync(repo.Id, BlobDigest("never"), Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.IsReferencedInRepositoryAsync))]
    public async Task IsReferencedInRepository_is_true_only_while_a_manifest_there_references_the_blob()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, layer, T0, Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));

        var image = await PutAsync(store, Image(repo.Id, "one", [layer]));

        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(other.Id, layer, Ct));
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, image.Digest, Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ClaimGarbageAsync))]
    public async Task ClaimGarbage_claims_only_blobs_touched_before_the_cutoff()
    {
        await using var store = await CreateStoreAsync();
        var old = BlobDigest("old");
        var boundary = BlobDigest("boundary");
        var fresh = BlobDigest("fresh");
        await store.Blobs.ReserveBlobAsync(old, 1, T0, Ct);
        await store.Blobs.ReserveBlobAsync(boundary, 2, T0.AddHours(1), Ct);
        await store.Blobs.ReserveBlobAsync(fresh, 3, T0.AddHours(2), Ct);

        var claimed = await store.Blobs.ClaimGarbageAsync(T0.AddHours(1), 10, Ct);

        Assert.Equal([new BlobRecord(old, 1, T0)], claimed);
        Assert.NotNull(await store.Blobs.GetBlobAsync(boundary, Ct));
        Assert.NotNull(await store.Blobs.GetBlobAsync(fresh, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ClaimGarbageAsync))]
    public async Task ClaimGarbage_respects_the_limit_and_does_not_claim_twice()
    {
        await using var store = await CreateStoreAsync();
        var digests = Enumerable.Range(0, 5).Select(i => BlobDigest($"b{i}")).ToList();
        foreach (var digest in digests)
        {
            await store.Blobs.ReserveBlobAsync(digest, 1, T0, Ct);
        }

        var first = await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 3, Ct);
        var second = await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 3, Ct);
        var third = await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 3, Ct);

        Assert.Equal(3, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(third);
        Assert.Equal(digests.Order(DigestOrder), first.Concat(second).Select(b => b.Digest).Order(DigestOrder));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ClaimGarbageAsync))]
    public async Task ClaimGarbage_never_claims_a_referenced_blob_however_old()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var config = await UploadBlobAsync(store, repo.Id, "config");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var loose = await UploadBlobAsync(store, repo.Id, "loose");
        await PutAsync(store, Image(repo.Id, "one", [config, layer], tag: "v1"));

        var claimed = await store.Blobs.ClaimGarbageAsync(T0.AddYears(10), 100, Ct);

        Assert.Equal([loose], claimed.Select(b => b.Digest));
        Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(repo.Id, config, Ct));
        Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(repo.Id, layer, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ClaimGarbageAsync))]
    public async Task ClaimGarbage_protects_a_blob_referenced_from_any_repository()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, layer, T0, Ct));
        var inRepo = await PutAsync(store, Image(repo.Id, "one", [layer]));
        await PutAsync(store, Image(other.Id, "one", [layer]));
        await store.Images.DeleteManifestAsync(repo.Id, inRepo.Digest, Ct);

        Assert.Empty(await store.Blobs.ClaimGarbageAsync(T0.AddYears(1), 100, Ct));
    }

    [Fact]
    public async Task A_blob_becomes_claimable_once_its_last_manifest_is_deleted()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var image = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        Assert.Empty(await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 100, Ct));

        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, image.Digest, Ct));

        Assert.Equal([layer], (await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 100, Ct)).Select(b => b.Digest));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ListClaimedAsync))]
    public async Task ListClaimed_returns_claimed_blobs_up_to_the_limit()
    {
        await using var store = await CreateStoreAsync();
        foreach (var i in Enumerable.Range(0, 4))
        {
            await store.Blobs.ReserveBlobAsync(BlobDigest($"b{i}"), i, T0, Ct);
        }

        await store.Blobs.ReserveBlobAsync(BlobDigest("live"), 1, T0.AddDays(2), Ct);
        var claimed = await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 100, Ct);

        Assert.Equal(4, (await store.Blobs.ListClaimedAsync(100, Ct)).Count);
        Assert.Equal(2, (await store.Blobs.ListClaimedAsync(2, Ct)).Count);
        Assert.Equal(claimed.OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal), (await store.Blobs.ListClaimedAsync(100, Ct)).OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ForgetClaimedAsync))]
    public async Task ForgetClaimed_removes_claimed_rows_and_their_links_but_not_live_rows()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var gone = await UploadBlobAsync(store, repo.Id, "gone");
        var live = await UploadBlobAsync(store, repo.Id, "live", T0.AddDays(2));
        Assert.Single(await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 100, Ct));

        await store.Blobs.ForgetClaimedAsync([gone, live], Ct);

        Assert.Null(await store.Blobs.GetBlobAsync(gone, Ct));
        Assert.False(await store.Blobs.UnlinkBlobAsync(repo.Id, gone, Ct));
        Assert.Empty(await store.Blobs.ListClaimedAsync(100, Ct));
        Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(repo.Id, live, Ct));
    }

    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ListReferencedAsync))]
    public async Task ListReferenced_yields_each_live_referenced_blob_once()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var shared = await UploadBlobAsync(store, repo.Id, "shared", size: 7);
        var own = await UploadBlobAsync(store, repo.Id, "own", size: 8);
        await UploadBlobAsync(store, repo.Id, "loose");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, shared, T0, Ct));
        await PutAsync(store, Image(repo.Id, "one", [shared, own]));
        await PutAsync(store, Image(repo.Id, "two", [shared]));
        await PutAsync(store, Image(other.Id, "three", [shared]));

        var referenced = new List<BlobRecord>();
        await foreach (var blob in store.Blobs.ListReferencedAsync(Ct))
        {
            referenced.Add(blob);
        }

        Assert.Equal(
            new[] { new BlobRecord(shared, 7, T0), new BlobRecord(own, 8, T0) }.OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal),
            referenced.OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal));
    }

    private static readonly Comparer<Wharf.Core.Primitives.Digest> DigestOrder =
        Comparer<Wharf.Core.Primitives.Digest>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
}
