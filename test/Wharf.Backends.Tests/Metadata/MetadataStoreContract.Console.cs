using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The web console's listings: repositories by name or creation time with a name filter, their statistics, regions, and images newest first.</summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.BrowseAsync))]
    public async Task Browse_pages_repositories_by_name_both_ways_and_filters_by_a_name_part()
    {
        await using var store = await CreateStoreAsync();
        foreach (var name in new[] { "team/b_x", "team/a", "team/bax", "other/c", "team/d" })
        {
            await CreateRepoAsync(store, name);
        }

        await store.Repositories.CreateAsync(RepoKey("team/zz", new RegistryKey(Registry.Account, "eu-west-1")), T0, Ct);

        async Task<List<string>> NamesAsync(RepositoryBrowse query) => [.. (await store.Repositories.BrowseAsync(Registry, query, Ct)).Select(r => r.Key.Name.Value)];

        Assert.Equal(["other/c", "team/a"], await NamesAsync(new RepositoryBrowse(null, RepositorySort.Name, false, null, 2)));
        var cursor = new RepositoryCursor("team/a", T0, 0);
        Assert.Equal(["team/b_x", "team/bax", "team/d"], await NamesAsync(new RepositoryBrowse(null, RepositorySort.Name, false, cursor, 10)));
        Assert.Equal(["team/d", "team/bax"], await NamesAsync(new RepositoryBrowse(null, RepositorySort.Name, true, null, 2)));
        Assert.Equal(["other/c"], await NamesAsync(new RepositoryBrowse(null, RepositorySort.Name, true, cursor, 10)));

        // "_" and "%" are literal characters of the needle, not LIKE's wildcards; the needle's case does not matter.
        Assert.Equal(["team/b_x"], await NamesAsync(new RepositoryBrowse("B_", RepositorySort.Name, false, null, 10)));
        Assert.Empty(await NamesAsync(new RepositoryBrowse("%", RepositorySort.Name, false, null, 10)));
        Assert.Equal(["team/b_x", "team/bax"], await NamesAsync(new RepositoryBrowse("b", RepositorySort.Name, false, null, 10)));
        Assert.Equal(["team/bax"], await NamesAsync(new RepositoryBrowse("b", RepositorySort.Name, false, new RepositoryCursor("team/b_x", T0, 0), 10)));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.BrowseAsync))]
    public async Task Browse_pages_repositories_by_creation_time_with_ties_broken_by_id()
    {
        await using var store = await CreateStoreAsync();
        var early = await store.Repositories.CreateAsync(RepoKey("z/early"), T0, Ct);
        var tieA = await store.Repositories.CreateAsync(RepoKey("b/tie"), T0.AddMinutes(1), Ct);
        var tieB = await store.Repositories.CreateAsync(RepoKey("a/tie"), T0.AddMinutes(1), Ct);
        var late = await store.Repositories.CreateAsync(RepoKey("m/late"), T0.AddMinutes(2), Ct);

        async Task<List<string>> NamesAsync(bool descending, Repository? after, int limit) =>
            [.. (await store.Repositories.BrowseAsync(Registry, new RepositoryBrowse(null, RepositorySort.Created, descending, after is null ? null : RepositoryCursor.Of(after), limit), Ct)).Select(r => r.Key.Name.Value)];

        Assert.Equal(["z/early", "b/tie"], await NamesAsync(false, null, 2));
        Assert.Equal(["a/tie", "m/late"], await NamesAsync(false, tieA, 10));
        Assert.Equal(["m/late", "a/tie"], await NamesAsync(true, null, 2));
        Assert.Equal(["b/tie", "z/early"], await NamesAsync(true, tieB, 10));
        Assert.Empty(await NamesAsync(false, late, 10));
        Assert.Empty(await NamesAsync(true, early, 10));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetStatisticsAsync))]
    public async Task Statistics_count_every_image_and_size_an_index_once()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var empty = await CreateRepoAsync(store, "team/empty");
        var layerA = await UploadBlobAsync(store, repo.Id, "a", size: 1000);
        var layerB = await UploadBlobAsync(store, repo.Id, "b", size: 300);
        var amd = await PutAsync(store, Image(repo.Id, "amd64", [layerA]));
        var arm = await PutAsync(store, Image(repo.Id, "arm64", [layerB]));
        await PutAsync(store, Index(repo.Id, "index", [amd.Digest, arm.Digest], tag: "latest"));
        await PutAsync(store, Image(repo.Id, "alone", [layerB], tag: "alone"));

        var statistics = (await store.Repositories.GetStatisticsAsync([repo.Id, empty.Id, 999_999], Ct)).ToDictionary(s => s.RepositoryId);

        Assert.Equal(2, statistics.Count);
        Assert.Equal(4, statistics[repo.Id].Images);
        Assert.Equal(1000 + 300, statistics[repo.Id].Size); // the index (its largest child) and the lone image
        Assert.Equal(new RepositoryStatistics(empty.Id, 0, 0), statistics[empty.Id]);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CountByRegionAsync))]
    public async Task Regions_are_counted_per_account_without_the_public_registry()
    {
        await using var store = await CreateStoreAsync();
        await CreateRepoAsync(store, "one");
        await CreateRepoAsync(store, "two");
        await store.Repositories.CreateAsync(RepoKey("three", new RegistryKey(Registry.Account, "eu-west-1")), T0, Ct);
        await store.Repositories.CreateAsync(RepoKey("public", RegistryKey.Public(Registry.Account)), T0, Ct);
        await store.Repositories.CreateAsync(RepoKey("theirs", new RegistryKey(AccountId.Parse("999999999999"), "ap-south-1")), T0, Ct);

        Assert.Equal(
            [new RegionRepositories("eu-west-1", 1), new RegionRepositories("us-east-1", 2)],
            await store.Repositories.CountByRegionAsync(Registry.Account, Ct));
        Assert.Empty(await store.Repositories.CountByRegionAsync(AccountId.Parse("111111111111"), Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.BrowseImagesAsync))]
    public async Task Browse_images_pages_newest_first_and_filters_by_tag_status_and_prefix()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var old = await PutAsync(store, Image(repo.Id, "old", [layer], tag: "v1.0", now: T0));
        var untagged = await PutAsync(store, Image(repo.Id, "untagged", [layer], now: T0.AddMinutes(1)));
        var tieA = await PutAsync(store, Image(repo.Id, "tie-a", [layer], tag: "v2.0", now: T0.AddMinutes(2)));
        var tieB = await PutAsync(store, Image(repo.Id, "tie-b", [layer], tag: "latest", now: T0.AddMinutes(2)));
        await store.Images.PutManifestAsync(Image(repo.Id, "tie-b", [layer], tag: "v2.1", now: T0.AddMinutes(2)), Ct);
        var ties = new[] { tieA.Digest, tieB.Digest }.OrderDescending(Comparer<Digest>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))).ToList();

        async Task<List<Digest>> DigestsAsync(ImageBrowse query) => [.. (await store.Images.BrowseImagesAsync(repo.Id, query, Ct)).Select(i => i.Digest)];

        Assert.Equal([ties[0], ties[1], untagged.Digest, old.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Any, null, ImageStatusFilter.Any, null, 10)));
        Assert.Equal([ties[1], untagged.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Any, null, ImageStatusFilter.Active, new ImageCursor(T0.AddMinutes(2), ties[0]), 2)));
        Assert.Equal([untagged.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Untagged, null, ImageStatusFilter.Any, null, 10)));
        Assert.Equal([ties[0], ties[1], old.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Tagged, null, ImageStatusFilter.Any, null, 10)));
        Assert.Equal([ties[0], ties[1], old.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Tagged, "v", ImageStatusFilter.Any, null, 10)));
        Assert.Equal([tieA.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Any, "v2.0", ImageStatusFilter.Any, null, 10)));
        Assert.Equal([tieB.Digest], await DigestsAsync(new ImageBrowse(TagStatus.Any, "v2.1", ImageStatusFilter.Any, null, 10)));
        Assert.Empty(await DigestsAsync(new ImageBrowse(TagStatus.Any, null, ImageStatusFilter.Archived, null, 10)));

        var page = await store.Images.BrowseImagesAsync(repo.Id, new ImageBrowse(TagStatus.Any, "lat", ImageStatusFilter.Any, null, 10), Ct);
        Assert.Equal(tieB.Digest, Assert.Single(page).Digest);
        Assert.Equal(["latest", "v2.1"], page[0].Tags);
    }
}
