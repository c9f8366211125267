using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>Pull-through cache tag freshness: one row per repository and tag, the latest validation kept, gone with the repository.</summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IPullThroughCacheStore), nameof(IPullThroughCacheStore.GetTagValidationAsync))]
    [Covers(typeof(IPullThroughCacheStore), nameof(IPullThroughCacheStore.SetTagValidationAsync))]
    public async Task A_tag_validation_keeps_the_latest_answer_per_tag_and_goes_with_its_repository()
    {
        await using var store = await CreateStoreAsync();
        var repository = (await store.Repositories.CreateAsync(RepoKey("hub/library/app"), T0, Ct))!;
        var other = (await store.Repositories.CreateAsync(RepoKey("hub/library/other"), T0, Ct))!;
        Assert.Null(await store.PullThroughCache.GetTagValidationAsync(repository.Id, "latest", Ct));

        await store.PullThroughCache.SetTagValidationAsync(repository.Id, "latest", BlobDigest("one"), T0, Ct);
        await store.PullThroughCache.SetTagValidationAsync(repository.Id, "latest", BlobDigest("two"), T0.AddHours(1), Ct);
        await store.PullThroughCache.SetTagValidationAsync(repository.Id, "latest", BlobDigest("stale"), T0.AddMinutes(30), Ct);
        await store.PullThroughCache.SetTagValidationAsync(other.Id, "latest", BlobDigest("three"), T0, Ct);

        Assert.Equal(new TagValidation(BlobDigest("two"), T0.AddHours(1)), await store.PullThroughCache.GetTagValidationAsync(repository.Id, "latest", Ct));
        Assert.Null(await store.PullThroughCache.GetTagValidationAsync(repository.Id, "v1", Ct));
        Assert.Equal(BlobDigest("three"), (await store.PullThroughCache.GetTagValidationAsync(other.Id, "latest", Ct))!.Digest);

        Assert.True(await store.Repositories.DeleteAsync(repository.Id, Ct));
        Assert.Null(await store.PullThroughCache.GetTagValidationAsync(repository.Id, "latest", Ct));
        await store.PullThroughCache.SetTagValidationAsync(repository.Id, "latest", BlobDigest("gone"), T0.AddHours(2), Ct);
        Assert.Null(await store.PullThroughCache.GetTagValidationAsync(repository.Id, "latest", Ct));
    }
}
