using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.GetManifestAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.GetManifestByTagAsync))]
    public async Task PutManifest_stores_manifest_references_and_tag()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var config = await UploadBlobAsync(store, repo.Id, "config");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var subject = Digest.Sha256Of("subject"u8);
        var write = Image(repo.Id, "one", [config, layer], tag: "v1", subject: subject,
            artifactType: "application/vnd.example+json", annotationsJson: """{"a":"b"}""", now: T0.AddMinutes(3));

        var result = await store.Images.PutManifestAsync(write, Ct);

        Assert.True(result.Succeeded);
        Assert.True(result.Created);
        Assert.Empty(result.MissingBlobs);
        Assert.Empty(result.MissingChildren);
        var stored = await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct);
        AssertManifest(write, stored);
        AssertManifest(write, await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        Assert.Equal(write.Content.LongLength, stored!.Size);
        Assert.Equal(["v1"], await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, config, Ct));
        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
    }

    [Fact]
    public async Task PutManifest_by_digest_stores_no_tag()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");

        var write = await PutAsync(store, Image(repo.Id, "one", [layer]));

        AssertManifest(write, await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
    }

    [Fact]
    public async Task PutManifest_accepts_a_blob_listed_twice_and_a_manifest_without_blobs()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var empty = await UploadBlobAsync(store, repo.Id, "empty");

        await PutAsync(store, Image(repo.Id, "one", [empty, empty, empty]));
        await PutAsync(store, Image(repo.Id, "two", []));

        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, empty, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    public async Task PutManifest_with_missing_blobs_fails_listing_them_and_writes_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var linked = await UploadBlobAsync(store, repo.Id, "linked");
        var reservedOnly = BlobDigest("reserved");
        await store.Blobs.ReserveBlobAsync(reservedOnly, 1, T0, Ct);
        var unknown = BlobDigest("unknown");
        var write = Image(repo.Id, "one", [linked, reservedOnly, unknown], tag: "v1");

        var result = await store.Images.PutManifestAsync(write, Ct);

        Assert.False(result.Succeeded);
        Assert.False(result.Created);
        Assert.Equal(new[] { reservedOnly, unknown }.Order(DigestOrder), result.MissingBlobs.Order(DigestOrder));
        Assert.Empty(result.MissingChildren);
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, linked, Ct));
    }

    [Fact]
    public async Task PutManifest_counts_blobs_linked_only_to_another_repository_as_missing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var elsewhere = await UploadBlobAsync(store, other.Id, "elsewhere");
        await PutAsync(store, Image(other.Id, "one", [elsewhere]));

        var result = await store.Images.PutManifestAsync(Image(repo.Id, "one", [elsewhere], tag: "v1"), Ct);

        Assert.False(result.Succeeded);
        Assert.Equal([elsewhere], result.MissingBlobs);
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
    }

    [Fact]
    public async Task PutManifest_counts_claimed_blobs_as_missing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.Single(await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 10, Ct));

        var result = await store.Images.PutManifestAsync(Image(repo.Id, "one", [layer]), Ct);

        Assert.False(result.Succeeded);
        Assert.Equal([layer], result.MissingBlobs);
    }

    [Fact]
    public async Task PutManifest_of_an_index_stores_its_children()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var amd64 = await PutAsync(store, Image(repo.Id, "amd64", [layer]));
        var arm64 = await PutAsync(store, Image(repo.Id, "arm64", [layer]));

        var index = await PutAsync(store, Index(repo.Id, "index", [amd64.Digest, arm64.Digest], tag: "multi"));

        AssertManifest(index, await store.Images.GetManifestByTagAsync(repo.Id, "multi", Ct));
        Assert.Equal(DeleteManifestResult.ReferencedByIndex, await store.Images.DeleteManifestAsync(repo.Id, arm64.Digest, Ct));
    }

    [Fact]
    public async Task PutManifest_with_declared_sizes_other_than_the_real_ones_fails_listing_them_and_writes_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var config = await UploadBlobAsync(store, repo.Id, "config", size: 10);
        var layer = await UploadBlobAsync(store, repo.Id, "layer", size: 2000);
        var child = await PutAsync(store, Image(repo.Id, "child", [config]));
        var childSize = child.Content.LongLength;
        var image = Image(repo.Id, "one", [config, layer], tag: "v1");
        var index = Index(repo.Id, "index", [child.Digest], tag: "multi");

        var wrongLayer = await store.Images.PutManifestAsync(image with { DeclaredSizes = new Dictionary<Digest, long> { [config] = 10, [layer] = 1999 } }, Ct);
        var wrongChild = await store.Images.PutManifestAsync(index with { DeclaredSizes = new Dictionary<Digest, long> { [child.Digest] = childSize + 1 } }, Ct);

        Assert.False(wrongLayer.Succeeded);
        Assert.Empty(wrongLayer.MissingBlobs);
        Assert.Equal(new[] { new SizeMismatch(layer, 1999, 2000) }, wrongLayer.WrongSizes);
        Assert.False(wrongChild.Succeeded);
        Assert.Empty(wrongChild.MissingChildren);
        Assert.Equal(new[] { new SizeMismatch(child.Digest, childSize + 1, childSize) }, wrongChild.WrongSizes);
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, image.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "multi", Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));

        // The real sizes (a digest without a declared size is not checked) are stored.
        await PutAsync(store, image with { DeclaredSizes = new Dictionary<Digest, long> { [layer] = 2000 } });
        await PutAsync(store, index with { DeclaredSizes = new Dictionary<Digest, long> { [child.Digest] = childSize } });
        Assert.NotNull(await store.Images.GetManifestByTagAsync(repo.Id, "multi", Ct));
    }

    [Fact]
    public async Task PutManifest_with_missing_children_fails_listing_them_and_writes_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, layer, T0, Ct));
        var present = await PutAsync(store, Image(repo.Id, "present", [layer]));
        var otherRepoOnly = await PutAsync(store, Image(other.Id, "elsewhere", [layer]));
        var absent = Digest.Sha256Of("absent"u8);
        var write = Index(repo.Id, "index", [present.Digest, otherRepoOnly.Digest, absent], tag: "multi");

        var result = await store.Images.PutManifestAsync(write, Ct);

        Assert.False(result.Succeeded);
        Assert.Empty(result.MissingBlobs);
        Assert.Equal(new[] { otherRepoOnly.Digest, absent }.Order(DigestOrder), result.MissingChildren.Order(DigestOrder));
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "multi", Ct));
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, present.Digest, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    public async Task PutManifest_of_identical_bytes_is_not_created_again_and_moves_the_tag()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var a = await PutAsync(store, Image(repo.Id, "a", [layer], tag: "v1"));
        await PutAsync(store, Image(repo.Id, "b", [layer], tag: "v2"));

        var again = await store.Images.PutManifestAsync(a with { Tag = "v2", Now = T0.AddHours(1) }, Ct);

        Assert.True(again.Succeeded);
        Assert.False(again.Created);
        Assert.Equal(a.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct))!.Digest);
        Assert.Equal(a.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, "v2", Ct))!.Digest);
        Assert.Equal(a.Content, (await store.Images.GetManifestAsync(repo.Id, a.Digest, Ct))!.Content);
    }

    [Fact]
    public async Task PutManifest_moves_an_existing_tag_to_the_new_manifest()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var first = await PutAsync(store, Image(repo.Id, "first", [layer], tag: "latest"));

        var second = await PutAsync(store, Image(repo.Id, "second", [layer], tag: "latest", now: T0.AddHours(1)));

        Assert.Equal(second.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, "latest", Ct))!.Digest);
        Assert.NotNull(await store.Images.GetManifestAsync(repo.Id, first.Digest, Ct));
        Assert.Equal(["latest"], await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
    }

    [Fact]
    public async Task The_same_manifest_in_two_repositories_is_two_records()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, layer, T0, Ct));
        var write = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));

        var inOther = await store.Images.PutManifestAsync(write with { RepositoryId = other.Id, Tag = "w1" }, Ct);

        Assert.True(inOther.Created);
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, write.Digest, Ct));
        Assert.NotNull(await store.Images.GetManifestByTagAsync(other.Id, "w1", Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(other.Id, "v1", Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.GetManifestAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.GetManifestByTagAsync))]
    public async Task GetManifest_returns_null_when_absent_or_in_another_repository()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var write = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));

        Assert.Null(await store.Images.GetManifestAsync(other.Id, write.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(other.Id, "v1", Ct));
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, Digest.Sha256Of("nothing"u8), Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "v2", Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.DeleteManifestAsync), Parameters = 3)]
    public async Task DeleteManifest_removes_it_with_its_tags_and_references_but_keeps_blob_links()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var doomed = await PutAsync(store, Image(repo.Id, "doomed", [layer], tag: "v1"));
        await store.Images.PutManifestAsync(doomed with { Tag = "latest" }, Ct);
        var kept = await PutAsync(store, Image(repo.Id, "kept", [], tag: "v2"));

        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, doomed.Digest, Ct));

        Assert.Null(await store.Images.GetManifestAsync(repo.Id, doomed.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        Assert.Equal(["v2"], await store.Images.ListTagsAsync(repo.Id, null, 10, Ct));
        AssertManifest(kept, await store.Images.GetManifestByTagAsync(repo.Id, "v2", Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
        Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(repo.Id, layer, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.DeleteManifestAsync), Parameters = 3)]
    public async Task DeleteManifest_returns_NotFound_when_absent()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        Assert.Equal(DeleteManifestResult.NotFound, await store.Images.DeleteManifestAsync(repo.Id, Digest.Sha256Of("x"u8), Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.DeleteManifestAsync), Parameters = 3)]
    public async Task DeleteManifest_refuses_a_child_of_an_index_until_the_index_is_gone()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var child = await PutAsync(store, Image(repo.Id, "child", [layer], tag: "child"));
        var index = await PutAsync(store, Index(repo.Id, "index", [child.Digest], tag: "multi"));

        Assert.Equal(DeleteManifestResult.ReferencedByIndex, await store.Images.DeleteManifestAsync(repo.Id, child.Digest, Ct));
        AssertManifest(child, await store.Images.GetManifestByTagAsync(repo.Id, "child", Ct));
        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));

        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, index.Digest, Ct));
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, child.Digest, Ct));
    }

    [Fact]
    public async Task DeleteManifest_ignores_indexes_in_other_repositories()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, layer, T0, Ct));
        var child = await PutAsync(store, Image(repo.Id, "child", [layer]));
        await PutAsync(store, child with { RepositoryId = other.Id });
        await PutAsync(store, Index(other.Id, "index", [child.Digest]));

        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, child.Digest, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.DeleteTagAsync))]
    public async Task DeleteTag_removes_only_the_tag()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var write = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        await store.Images.PutManifestAsync(write with { Tag = "latest" }, Ct);

        Assert.True(await store.Images.DeleteTagAsync(repo.Id, "v1", Ct));

        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        AssertManifest(write, await store.Images.GetManifestByTagAsync(repo.Id, "latest", Ct));
        AssertManifest(write, await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        Assert.True(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
        Assert.False(await store.Images.DeleteTagAsync(repo.Id, "v1", Ct));
        Assert.False(await store.Images.DeleteTagAsync(repo.Id, "never", Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListTagsAsync))]
    public async Task ListTags_orders_ordinally_and_pages_with_last_and_limit()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var write = await PutAsync(store, Image(repo.Id, "one", []));
        await PutAsync(store, Image(other.Id, "one", [], tag: "other"));
        string[] tags = ["b", "a", "B", "A", "_x", "1.0", "1.0-rc", "1_0", "latest"];
        foreach (var tag in tags)
        {
            await PutAsync(store, write with { Tag = tag });
        }

        string[] ordinal = ["1.0", "1.0-rc", "1_0", "A", "B", "_x", "a", "b", "latest"];
        Assert.Equal(ordinal, await store.Images.ListTagsAsync(repo.Id, null, 100, Ct));
        Assert.Equal(["1.0", "1.0-rc"], await store.Images.ListTagsAsync(repo.Id, null, 2, Ct));
        Assert.Equal(["1_0", "A"], await store.Images.ListTagsAsync(repo.Id, "1.0-rc", 2, Ct));
        Assert.Equal(["_x", "a", "b"], await store.Images.ListTagsAsync(repo.Id, "Z", 3, Ct));
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, "latest", 10, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListReferrersAsync))]
    public async Task ListReferrers_returns_manifests_with_that_subject_ordered_by_digest()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        // The subject need not exist in the repository.
        var subject = Digest.Sha256Of("the subject"u8);
        var sboms = Enumerable.Range(0, 3)
            .Select(i => Image(repo.Id, $"sbom{i}", [], subject: subject, artifactType: "application/spdx+json", annotationsJson: $$"""{"n":"{{i}}"}"""))
            .ToList();
        var signature = Image(repo.Id, "sig", [], subject: subject, artifactType: "application/vnd.dev.cosign+json");
        foreach (var write in sboms.Append(signature))
        {
            await PutAsync(store, write);
        }

        await PutAsync(store, Image(repo.Id, "unrelated", [], subject: Digest.Sha256Of("another"u8), artifactType: "application/spdx+json"));
        await PutAsync(store, Image(repo.Id, "plain", []));
        await PutAsync(store, Image(other.Id, "elsewhere", [], subject: subject, artifactType: "application/spdx+json"));

        var all = await store.Images.ListReferrersAsync(repo.Id, subject, null, Ct);
        var filtered = await store.Images.ListReferrersAsync(repo.Id, subject, "application/spdx+json", Ct);

        var expected = sboms.Append(signature)
            .Select(w => new ReferrerRecord(w.Digest, w.MediaType, w.Content.LongLength, w.ArtifactType, w.AnnotationsJson))
            .OrderBy(r => r.Digest.ToString(), StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, all);
        Assert.Equal(expected.Where(r => r.ArtifactType == "application/spdx+json"), filtered);
        Assert.Empty(await store.Images.ListReferrersAsync(repo.Id, subject, "application/none", Ct));
        Assert.Empty(await store.Images.ListReferrersAsync(repo.Id, Digest.Sha256Of("nobody"u8), null, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListReferrersAsync))]
    public async Task ListReferrers_drops_deleted_referrers()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var subject = await PutAsync(store, Image(repo.Id, "subject", [], tag: "v1"));
        var signature = await PutAsync(store, Image(repo.Id, "sig", [], subject: subject.Digest, artifactType: "application/sig"));

        Assert.Single(await store.Images.ListReferrersAsync(repo.Id, subject.Digest, null, Ct));
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, signature.Digest, Ct));

        Assert.Empty(await store.Images.ListReferrersAsync(repo.Id, subject.Digest, null, Ct));
    }

    private static void AssertManifest(ManifestWrite expected, ManifestRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.RepositoryId, actual.RepositoryId);
        Assert.Equal(expected.Digest, actual.Digest);
        Assert.Equal(expected.MediaType, actual.MediaType);
        Assert.Equal(expected.ArtifactType, actual.ArtifactType);
        Assert.Equal(expected.Subject, actual.Subject);
        Assert.Equal(expected.Content, actual.Content);
        Assert.Equal(expected.AnnotationsJson, actual.AnnotationsJson);
        Assert.Equal(expected.Now, actual.PushedAt);
    }
}
