using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    [Fact]
    public async Task Create_returns_the_new_repository_and_Get_finds_it()
    {
        await using var store = await CreateStoreAsync();

        var created = await store.Repositories.CreateAsync(RepoKey("team/app"), T0, Ct);

        Assert.NotNull(created);
        Assert.Equal(RepoKey("team/app"), created.Key);
        Assert.Equal(T0, created.CreatedAt);
        Assert.Equal(created, await store.Repositories.GetAsync(RepoKey("team/app"), Ct));
    }

    [Fact]
    public async Task Get_returns_null_for_an_unknown_repository()
    {
        await using var store = await CreateStoreAsync();
        await CreateRepoAsync(store, "team/app");

        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/other"), Ct));
        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/app", new RegistryKey(AccountId.Parse("999999999999"), "us-east-1")), Ct));
        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/app", new RegistryKey(Registry.Account, "eu-west-1")), Ct));
    }

    [Fact]
    public async Task Create_returns_null_when_the_repository_exists()
    {
        await using var store = await CreateStoreAsync();
        var first = await CreateRepoAsync(store, "team/app");

        Assert.Null(await store.Repositories.CreateAsync(RepoKey("team/app"), T0.AddMinutes(1), Ct));
        Assert.Equal(first, await store.Repositories.GetAsync(RepoKey("team/app"), Ct));
    }

    [Fact]
    public async Task Same_name_in_another_registry_is_another_repository()
    {
        await using var store = await CreateStoreAsync();
        var first = await CreateRepoAsync(store, "team/app");

        var other = await store.Repositories.CreateAsync(RepoKey("team/app", new RegistryKey(Registry.Account, "eu-west-1")), T0, Ct);

        Assert.NotNull(other);
        Assert.NotEqual(first.Id, other.Id);
    }

    [Fact]
    public async Task GetOrCreate_returns_the_existing_repository()
    {
        await using var store = await CreateStoreAsync();
        var first = await CreateRepoAsync(store, "team/app");

        var again = await store.Repositories.GetOrCreateAsync(RepoKey("team/app"), T0.AddHours(1), Ct);

        Assert.Equal(first, again);
    }

    [Fact]
    public async Task GetOrCreate_under_concurrency_creates_exactly_one_repository()
    {
        await using var store = await CreateStoreAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => store.Repositories.GetOrCreateAsync(RepoKey("team/app"), T0.AddMilliseconds(i), Ct), Ct)));

        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Single(await store.Repositories.ListAsync(Registry, null, 100, Ct));
    }

    [Fact]
    public async Task List_orders_by_ordinal_name_within_the_registry()
    {
        await using var store = await CreateStoreAsync();
        // Ordinal order: '-' < '.' < '/' < '0' < '_' < 'a'; a linguistic collation would disagree.
        string[] names = ["appx", "app_x", "app/x", "app.x", "app-x", "app0"];
        foreach (var name in names)
        {
            await CreateRepoAsync(store, name);
        }

        await store.Repositories.CreateAsync(RepoKey("app-y", new RegistryKey(Registry.Account, "eu-west-1")), T0, Ct);
        await store.Repositories.CreateAsync(RepoKey("app-z", new RegistryKey(AccountId.Parse("999999999999"), Registry.Region)), T0, Ct);

        var listed = await store.Repositories.ListAsync(Registry, null, 100, Ct);

        Assert.Equal(["app-x", "app.x", "app/x", "app0", "app_x", "appx"], listed.Select(r => r.Key.Name.Value));
        Assert.All(listed, r => Assert.Equal(Registry, r.Key.Registry));
    }

    [Fact]
    public async Task List_pages_with_after_and_limit()
    {
        await using var store = await CreateStoreAsync();
        foreach (var name in new[] { "e1", "b1", "d1", "a1", "c1" })
        {
            await CreateRepoAsync(store, name);
        }

        Assert.Equal(["a1", "b1"], (await store.Repositories.ListAsync(Registry, null, 2, Ct)).Select(r => r.Key.Name.Value));
        Assert.Equal(["c1", "d1"], (await store.Repositories.ListAsync(Registry, "b1", 2, Ct)).Select(r => r.Key.Name.Value));
        Assert.Equal(["e1"], (await store.Repositories.ListAsync(Registry, "d1", 2, Ct)).Select(r => r.Key.Name.Value));
        // `after` need not name an existing repository.
        Assert.Equal(["c1", "d1", "e1"], (await store.Repositories.ListAsync(Registry, "bz", 10, Ct)).Select(r => r.Key.Name.Value));
        Assert.Empty(await store.Repositories.ListAsync(Registry, "e1", 10, Ct));
    }

    [Fact]
    public async Task Delete_removes_the_repository_with_its_manifests_tags_links_and_uploads()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        Assert.True(await store.Blobs.LinkBlobAsync(other.Id, layer, T0, Ct));
        var image = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "latest"));
        await PutAsync(store, Index(repo.Id, "index", [image.Digest], tag: "multi"));
        await store.Uploads.CreateAsync(new UploadSession("upload-1", repo.Id, 0, T0, T0.AddDays(1)), Ct);

        Assert.True(await store.Repositories.DeleteAsync(repo.Id, Ct));

        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/app"), Ct));
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, image.Digest, Ct));
        Assert.Null(await store.Images.GetManifestByTagAsync(repo.Id, "latest", Ct));
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, null, 100, Ct));
        Assert.Null(await store.Blobs.GetLinkedBlobAsync(repo.Id, layer, Ct));
        Assert.False(await store.Blobs.IsReferencedInRepositoryAsync(repo.Id, layer, Ct));
        Assert.Null(await store.Uploads.GetAsync("upload-1", Ct));
        // The blob itself and other repositories' links stay: GC decides about bytes.
        Assert.NotNull(await store.Blobs.GetBlobAsync(layer, Ct));
        Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(other.Id, layer, Ct));
        Assert.Equal(other, await store.Repositories.GetAsync(RepoKey("team/other"), Ct));
    }

    [Fact]
    public async Task Delete_returns_false_for_an_unknown_repository()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        Assert.True(await store.Repositories.DeleteAsync(repo.Id, Ct));

        Assert.False(await store.Repositories.DeleteAsync(repo.Id, Ct));
        Assert.False(await store.Repositories.DeleteAsync(repo.Id + 1000, Ct));
    }

    [Fact]
    public async Task A_deleted_repository_name_can_be_created_again_empty()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "latest"));
        Assert.True(await store.Repositories.DeleteAsync(repo.Id, Ct));

        var again = await CreateRepoAsync(store);

        Assert.Empty(await store.Images.ListTagsAsync(again.Id, null, 10, Ct));
        Assert.Null(await store.Blobs.GetLinkedBlobAsync(again.Id, layer, Ct));
    }

    [Fact]
    public async Task Ping_succeeds_on_a_migrated_store()
    {
        await using var store = await CreateStoreAsync();

        Assert.True(await store.PingAsync(Ct));
        Assert.False(string.IsNullOrEmpty(store.Backend));
    }

    [Fact]
    public async Task Migrate_is_idempotent_and_safe_concurrently()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => store.MigrateAsync(Ct), Ct)));

        Assert.Equal(repo, await store.Repositories.GetAsync(repo.Key, Ct));
    }
}
