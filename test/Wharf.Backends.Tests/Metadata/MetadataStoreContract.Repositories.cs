using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 3)]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetAsync))]
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
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetAsync))]
    public async Task Get_returns_null_for_an_unknown_repository()
    {
        await using var store = await CreateStoreAsync();
        await CreateRepoAsync(store, "team/app");

        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/other"), Ct));
        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/app", new RegistryKey(AccountId.Parse("999999999999"), "us-east-1")), Ct));
        Assert.Null(await store.Repositories.GetAsync(RepoKey("team/app", new RegistryKey(Registry.Account, "eu-west-1")), Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 3)]
    public async Task Create_returns_null_when_the_repository_exists()
    {
        await using var store = await CreateStoreAsync();
        var first = await CreateRepoAsync(store, "team/app");

        Assert.Null(await store.Repositories.CreateAsync(RepoKey("team/app"), T0.AddMinutes(1), Ct));
        Assert.Equal(first, await store.Repositories.GetAsync(RepoKey("team/app"), Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 3)]
    public async Task Same_name_in_another_registry_is_another_repository()
    {
        await using var store = await CreateStoreAsync();
        var first = await CreateRepoAsync(store, "team/app");

        var other = await store.Repositories.CreateAsync(RepoKey("team/app", new RegistryKey(Registry.Account, "eu-west-1")), T0, Ct);

        Assert.NotNull(other);
        Assert.NotEqual(first.Id, other.Id);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetOrCreateAsync))]
    public async Task GetOrCreate_returns_the_existing_repository()
    {
        await using var store = await CreateStoreAsync();
        var first = await CreateRepoAsync(store, "team/app");

        var again = await store.Repositories.GetOrCreateAsync(RepoKey("team/app"), T0.AddHours(1), Ct);

        Assert.Equal(first, again);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetOrCreateAsync))]
    public async Task GetOrCreate_under_concurrency_creates_exactly_one_repository()
    {
        await using var store = await CreateStoreAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => store.Repositories.GetOrCreateAsync(RepoKey("team/app"), T0.AddMilliseconds(i), Ct), Ct)));

        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Single(await store.Repositories.ListAsync(Registry, null, 100, Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ListAsync))]
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
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ListAsync))]
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
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.DeleteAsync))]
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
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.DeleteAsync))]
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
    [Covers(typeof(IMetadataStore), nameof(IMetadataStore.PingAsync))]
    public async Task Ping_succeeds_on_a_migrated_store()
    {
        await using var store = await CreateStoreAsync();

        Assert.True(await store.PingAsync(Ct));
        Assert.False(string.IsNullOrEmpty(store.Backend));
    }

    [Fact]
    [Covers(typeof(IMetadataStore), nameof(IMetadataStore.MigrateAsync))]
    public async Task Migrate_is_idempotent_and_safe_concurrently()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => store.MigrateAsync(Ct), Ct)));

        Assert.Equal(repo, await store.Repositories.GetAsync(repo.Key, Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ListConfiguredRegistriesAsync))]
    public async Task ListConfiguredRegistries_lists_registries_with_settings_or_a_policy_but_not_those_with_only_repositories()
    {
        await using var store = await CreateStoreAsync();
        var europe = new RegistryKey(Registry.Account, "eu-west-1");
        var otherAccount = new RegistryKey(AccountId.Parse("999999999999"), "us-east-1");
        await CreateRepoAsync(store);
        await store.Repositories.CreateAsync(RepoKey("team/app", new RegistryKey(Registry.Account, "ap-south-1")), T0, Ct);
        Assert.Empty(await store.Repositories.ListConfiguredRegistriesAsync(Ct));

        await store.Repositories.SetRegistrySettingAsync(otherAccount, "BASIC_SCAN_TYPE_VERSION", "CLAIR", Ct);
        await store.Repositories.SetRegistryPolicyAsync(europe, "{}", Ct);
        await store.Repositories.ChangeRegistrySettingAsync(Registry, "REGISTRY_POLICY_SCOPE", _ => ("V2", true), Ct);

        var listed = await store.Repositories.ListConfiguredRegistriesAsync(Ct);
        Assert.Equal(
            new[] { Registry, europe, otherAccount }.OrderBy(r => r.Account.Value, StringComparer.Ordinal).ThenBy(r => r.Region, StringComparer.Ordinal),
            listed.OrderBy(r => r.Account.Value, StringComparer.Ordinal).ThenBy(r => r.Region, StringComparer.Ordinal));
    }

    /// <summary>
    /// Documents a departure, the same on both engines: the interface says registries with only
    /// defaults are not listed, but a registry's row stays (and so it is listed) once its policy and
    /// settings are removed. Harmless for the one caller (continuous scanning reads the defaults);
    /// the relational rewrite may delete such rows or reword the interface, and change this test with it.
    /// </summary>
    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ListConfiguredRegistriesAsync))]
    public async Task A_registry_stays_listed_as_configured_after_its_policy_and_settings_are_removed()
    {
        await using var store = await CreateStoreAsync();
        await store.Repositories.SetRegistryPolicyAsync(Registry, "{}", Ct);
        await store.Repositories.SetRegistrySettingAsync(Registry, "S", "v", Ct);

        await store.Repositories.SetRegistryPolicyAsync(Registry, null, Ct);
        await store.Repositories.ChangeRegistrySettingAsync(Registry, "S", _ => ((string?)null, true), Ct);

        Assert.Null(await store.Repositories.GetRegistryPolicyAsync(Registry, Ct));
        Assert.Empty(await store.Repositories.GetRegistrySettingsAsync(Registry, Ct));
        Assert.Equal([Registry], await store.Repositories.ListConfiguredRegistriesAsync(Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.SetPolicyAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.UpdateSettingsAsync))]
    public async Task SetPolicy_and_UpdateSettings_touch_only_their_repository_and_are_false_once_it_is_gone()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store, "team/app");
        var other = await CreateRepoAsync(store, "team/other");
        var settings = RepositorySettings.Default with { ScanOnPush = true, Mutability = TagMutability.Immutable };

        Assert.True(await store.Repositories.SetPolicyAsync(repo.Id, "{\"p\":1}", Ct));
        Assert.True(await store.Repositories.UpdateSettingsAsync(repo.Id, settings, Ct));

        Assert.Equal(repo with { Settings = settings, Policy = "{\"p\":1}" }, await store.Repositories.GetAsync(repo.Key, Ct));
        Assert.Equal(other, await store.Repositories.GetAsync(other.Key, Ct));
        Assert.True(await store.Repositories.DeleteAsync(repo.Id, Ct));
        Assert.False(await store.Repositories.SetPolicyAsync(repo.Id, "{}", Ct));
        Assert.False(await store.Repositories.SetPolicyAsync(repo.Id, null, Ct));
        Assert.False(await store.Repositories.UpdateSettingsAsync(repo.Id, RepositorySettings.Default, Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ChangeRegistrySettingAsync))]
    public async Task Concurrent_first_changes_of_a_new_registrys_setting_lose_nothing()
    {
        await using var store = await CreateStoreAsync();
        for (var round = 0; round < 3; round++)
        {
            var registry = new RegistryKey(AccountId.Parse($"55555555555{round}"), "us-east-1");

            await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Repositories.ChangeRegistrySettingAsync(
                registry, "list", current => ((current is null ? "" : current + ",") + i, true), Ct))));

            Assert.Equal(Enumerable.Range(0, 8), (await store.Repositories.GetRegistrySettingsAsync(registry, Ct))["list"].Split(',').Select(int.Parse).Order());
        }
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.TagAsync))]
    public async Task Concurrent_resource_taggers_never_take_a_repository_past_the_limit()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Repositories.TagAsync(repo.Id, [new ResourceTag($"k{i}", "v")], 3, Ct))));

        Assert.Equal(3, results.Count(r => r == ResourceTagResult.Tagged));
        Assert.All(results.Where(r => r != ResourceTagResult.Tagged), r => Assert.Equal(ResourceTagResult.TooManyTags, r));
        Assert.Equal(3, (await store.Repositories.GetResourceTagsAsync(repo.Id, Ct)).Count);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 5)]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetResourceTagsAsync))]
    public async Task A_creation_with_settings_that_finds_the_repository_writes_neither_its_settings_nor_its_tags()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);

        Assert.Null(await store.Repositories.CreateAsync(repo.Key, RepositorySettings.Default with { ScanOnPush = true }, [new ResourceTag("k", "v")], T0.AddHours(1), Ct));

        Assert.Equal(repo, await store.Repositories.GetAsync(repo.Key, Ct));
        Assert.Empty(await store.Repositories.GetResourceTagsAsync(repo.Id, Ct));
        Assert.Empty(await store.Repositories.GetResourceTagsAsync(repo.Id + 1000, Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 3)]
    public async Task Concurrent_creations_of_one_repository_let_exactly_one_succeed()
    {
        await using var store = await CreateStoreAsync();

        var created = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Repositories.CreateAsync(RepoKey("team/app"), T0.AddMilliseconds(i), Ct))));

        var winner = Assert.Single(created, r => r is not null);
        Assert.Equal(winner, await store.Repositories.GetAsync(RepoKey("team/app"), Ct));
    }
}
