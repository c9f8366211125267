using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// Public registries: aliases unique across accounts (however writers race), catalog data and search terms
/// that go with their repository, the gallery's search (every word a prefix, filters, paging), anonymous byte counters.
/// </summary>
public abstract partial class MetadataStoreContract
{
    private static readonly AccountId PublicA = AccountId.Parse("111111111111");
    private static readonly AccountId PublicB = AccountId.Parse("222222222222");

    private static RepositoryKey PublicRepo(AccountId account, string name) => new(RegistryKey.Public(account), RepositoryName.Parse(name));

    private static async Task<Repository> CreatePublicAsync(IMetadataStore store, AccountId account, string name, RepositoryCatalog? catalog = null, CatalogLogo? logo = null)
    {
        var key = PublicRepo(account, name);
        var creation = new RepositoryCreation(RepositorySettings.Default, [])
        {
            PublicCatalog = catalog is null ? null : (catalog, logo, PublicRegistryService.SearchTerms(key.Name, catalog.Description)),
        };
        return await store.Repositories.CreateAsync(key, creation, T0, Ct) ?? throw new InvalidOperationException("repository exists");
    }

    private static RepositoryCatalog Catalog(string? description, string[]? architectures = null, string[]? systems = null) =>
        new(description, architectures ?? [], systems ?? [], null, null, null);

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.EnsureRegistryAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.GetRegistryAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.ResolveAliasAsync))]
    public async Task A_registry_is_made_once_with_its_default_alias_and_another_accounts_alias_is_refused()
    {
        await using var store = await CreateStoreAsync();
        Assert.Null(await store.Public.GetRegistryAsync(PublicA, Ct));

        var made = await store.Public.EnsureRegistryAsync(PublicA, "a1b2c3d4", T0, Ct);
        Assert.NotNull(made);
        Assert.Equal(PublicA, made.Account);
        Assert.Equal([new RegistryAlias("a1b2c3d4", RegistryAliasStatus.Active, true, true)], made.Aliases);
        Assert.False(made.Verified);
        Assert.Null(made.DisplayName);
        Assert.Equal(T0, made.CreatedAt);
        Assert.Equal("a1b2c3d4", made.PrimaryAlias);

        // Again: the registry as it is, the new draw unused (and so still free).
        var again = await store.Public.EnsureRegistryAsync(PublicA, "zzzzzzzz", T0.AddDays(1), Ct);
        Assert.Equal(made.Aliases, again!.Aliases);
        Assert.Equal(T0, again.CreatedAt);
        Assert.Null(await store.Public.ResolveAliasAsync("zzzzzzzz", Ct));

        // B drew A's alias: nothing is written, B draws again.
        Assert.Null(await store.Public.EnsureRegistryAsync(PublicB, "a1b2c3d4", T0, Ct));
        Assert.Null(await store.Public.GetRegistryAsync(PublicB, Ct));
        Assert.NotNull(await store.Public.EnsureRegistryAsync(PublicB, "b1b2c3d4", T0, Ct));

        Assert.Equal(PublicA, await store.Public.ResolveAliasAsync("a1b2c3d4", Ct));
        Assert.Equal(PublicB, await store.Public.ResolveAliasAsync("b1b2c3d4", Ct));
        Assert.Null(await store.Public.ResolveAliasAsync("nothere", Ct));
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.SetPrimaryAliasAsync))]
    public async Task A_chosen_alias_becomes_primary_beside_the_default_and_is_unique_across_accounts()
    {
        await using var store = await CreateStoreAsync();
        await store.Public.EnsureRegistryAsync(PublicA, "defaulta", T0, Ct);
        await store.Public.EnsureRegistryAsync(PublicB, "defaultb", T0, Ct);

        Assert.True(await store.Public.SetPrimaryAliasAsync(PublicA, "acme", Ct));
        var registry = (await store.Public.GetRegistryAsync(PublicA, Ct))!;
        Assert.Equal(
            [new RegistryAlias("defaulta", RegistryAliasStatus.Active, false, true), new RegistryAlias("acme", RegistryAliasStatus.Active, true, false)],
            registry.Aliases);
        Assert.Equal("acme", registry.PrimaryAlias);
        Assert.Equal(PublicA, await store.Public.ResolveAliasAsync("acme", Ct));
        Assert.Equal(PublicA, await store.Public.ResolveAliasAsync("defaulta", Ct));

        // Taken by A: B can have neither A's chosen nor A's default alias.
        Assert.False(await store.Public.SetPrimaryAliasAsync(PublicB, "acme", Ct));
        Assert.False(await store.Public.SetPrimaryAliasAsync(PublicB, "defaulta", Ct));
        Assert.Equal(["defaultb"], (await store.Public.GetRegistryAsync(PublicB, Ct))!.Aliases.Select(a => a.Name));

        // Setting it again is no change; a new choice releases the previous one, which another account may then take.
        Assert.True(await store.Public.SetPrimaryAliasAsync(PublicA, "acme", Ct));
        Assert.True(await store.Public.SetPrimaryAliasAsync(PublicA, "acme-corp", Ct));
        Assert.Equal(["defaulta", "acme-corp"], (await store.Public.GetRegistryAsync(PublicA, Ct))!.Aliases.Select(a => a.Name));
        Assert.Null(await store.Public.ResolveAliasAsync("acme", Ct));
        Assert.True(await store.Public.SetPrimaryAliasAsync(PublicB, "acme", Ct));
        Assert.Equal(PublicB, await store.Public.ResolveAliasAsync("acme", Ct));

        // Back to the default: it is primary again, the chosen one released.
        Assert.True(await store.Public.SetPrimaryAliasAsync(PublicA, "defaulta", Ct));
        Assert.Equal([new RegistryAlias("defaulta", RegistryAliasStatus.Active, true, true)], (await store.Public.GetRegistryAsync(PublicA, Ct))!.Aliases);
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.SetPrimaryAliasAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.EnsureRegistryAsync))]
    public async Task Racing_writers_never_give_one_alias_to_two_accounts()
    {
        await using var store = await CreateStoreAsync();
        var accounts = Enumerable.Range(1, 6).Select(i => AccountId.Parse($"{i:D12}")).ToList();
        foreach (var account in accounts.Skip(3))
        {
            await store.Public.EnsureRegistryAsync(account, "own" + account.Value[^1], T0, Ct);
        }

        // Three accounts make their registry with one default alias, three others choose it, all at once.
        var ensures = accounts.Take(3).Select(a => store.Public.EnsureRegistryAsync(a, "contested", T0, Ct)).ToList();
        var choices = accounts.Skip(3).Select(a => store.Public.SetPrimaryAliasAsync(a, "contested", Ct)).ToList();
        await Task.WhenAll(Task.WhenAll(ensures), Task.WhenAll(choices));

        var winners = ensures.Count(t => t.Result is not null) + choices.Count(t => t.Result);
        Assert.Equal(1, winners);
        var owner = await store.Public.ResolveAliasAsync("contested", Ct);
        Assert.NotNull(owner);
        foreach (var account in accounts)
        {
            var registry = await store.Public.GetRegistryAsync(account, Ct);
            Assert.Equal(account == owner, registry?.Aliases.Any(a => a.Name == "contested") == true);
        }

        // One account's registry, made by two at once with different draws: one registry, one default alias.
        var fresh = AccountId.Parse("999999999999");
        var both = await Task.WhenAll(store.Public.EnsureRegistryAsync(fresh, "drawone", T0, Ct), store.Public.EnsureRegistryAsync(fresh, "drawtwo", T0, Ct));
        var aliases = (await store.Public.GetRegistryAsync(fresh, Ct))!.Aliases;
        Assert.Single(aliases);
        Assert.All(both, r => Assert.Equal(aliases, r!.Aliases));
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.SetDisplayNameAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.SetVerifiedAsync))]
    public async Task Display_name_and_verified_are_kept_per_registry()
    {
        await using var store = await CreateStoreAsync();
        Assert.False(await store.Public.SetDisplayNameAsync(PublicA, "Acme", Ct));
        Assert.False(await store.Public.SetVerifiedAsync(PublicA, true, Ct));
        await store.Public.EnsureRegistryAsync(PublicA, "defaulta", T0, Ct);

        Assert.True(await store.Public.SetDisplayNameAsync(PublicA, "Acme Ltd", Ct));
        Assert.True(await store.Public.SetVerifiedAsync(PublicA, true, Ct));
        var registry = (await store.Public.GetRegistryAsync(PublicA, Ct))!;
        Assert.Equal("Acme Ltd", registry.DisplayName);
        Assert.True(registry.Verified);

        Assert.True(await store.Public.SetDisplayNameAsync(PublicA, null, Ct));
        Assert.True(await store.Public.SetVerifiedAsync(PublicA, false, Ct));
        registry = (await store.Public.GetRegistryAsync(PublicA, Ct))!;
        Assert.Null(registry.DisplayName);
        Assert.False(registry.Verified);
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.GetCatalogAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.PutCatalogAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.GetLogoAsync))]
    public async Task Catalog_data_is_replaced_whole_and_goes_with_its_repository()
    {
        await using var store = await CreateStoreAsync();
        await store.Public.EnsureRegistryAsync(PublicA, "defaulta", T0, Ct);
        var logo = new CatalogLogo(new string('a', 64), "image/png", [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var created = new RepositoryCatalog("First", ["ARM 64", "x86-64"], ["Linux"], "## About", "Usage", logo.Sha256);
        var repository = await CreatePublicAsync(store, PublicA, "tools/widget", created, logo);
        var plain = await CreatePublicAsync(store, PublicA, "plain");

        // Written with the repository, in its creating transaction.
        Assert.Equal(created with { Architectures = ["ARM 64", "x86-64"] }, await store.Public.GetCatalogAsync(repository.Id, Ct), CatalogComparer.Instance);
        Assert.Equal(logo.Bytes, (await store.Public.GetLogoAsync(logo.Sha256, Ct))!.Bytes);
        Assert.Equal("image/png", (await store.Public.GetLogoAsync(logo.Sha256, Ct))!.MediaType);
        Assert.Null(await store.Public.GetCatalogAsync(plain.Id, Ct));
        Assert.Null(await store.Public.GetLogoAsync(new string('b', 64), Ct));

        var replaced = new RepositoryCatalog("Second", ["ARM"], [], null, "Use it", logo.Sha256);
        Assert.True(await store.Public.PutCatalogAsync(repository.Id, replaced, null, PublicRegistryService.SearchTerms(repository.Key.Name, "Second"), Ct));
        Assert.Equal(replaced, await store.Public.GetCatalogAsync(repository.Id, Ct), CatalogComparer.Instance);
        Assert.Empty((await SearchAsync(store, ["first"])).Repositories);
        Assert.Single((await SearchAsync(store, ["second"])).Repositories);
        Assert.Empty((await SearchAsync(store, [], architecture: "x86-64")).Repositories);
        Assert.Single((await SearchAsync(store, [], architecture: "arm")).Repositories);

        // New bytes replace the logo (the old one is gone with it); no logo and no name removes it.
        var other = new CatalogLogo(new string('c', 64), "image/jpeg", [0xFF, 0xD8, 0xFF, 9]);
        Assert.True(await store.Public.PutCatalogAsync(repository.Id, replaced with { LogoSha256 = other.Sha256 }, other, ["second"], Ct));
        Assert.Null(await store.Public.GetLogoAsync(logo.Sha256, Ct));
        Assert.Equal(other.Bytes, (await store.Public.GetLogoAsync(other.Sha256, Ct))!.Bytes);
        Assert.Equal("image/jpeg", (await store.Public.GetLogoAsync(other.Sha256, Ct))!.MediaType);
        Assert.True(await store.Public.PutCatalogAsync(repository.Id, replaced with { LogoSha256 = null }, null, PublicRegistryService.SearchTerms(repository.Key.Name, "Second"), Ct));
        Assert.Null((await store.Public.GetCatalogAsync(repository.Id, Ct))!.LogoSha256);
        Assert.Null(await store.Public.GetLogoAsync(other.Sha256, Ct));
        Assert.True(await store.Public.PutCatalogAsync(repository.Id, replaced with { LogoSha256 = null }, other, PublicRegistryService.SearchTerms(repository.Key.Name, "Second"), Ct));

        Assert.True(await store.Repositories.DeleteAsync(repository.Id, Ct));
        Assert.Null(await store.Public.GetCatalogAsync(repository.Id, Ct));
        Assert.Null(await store.Public.GetLogoAsync(other.Sha256, Ct));
        Assert.False(await store.Public.PutCatalogAsync(repository.Id, replaced, null, ["second"], Ct));
        Assert.Null(await store.Public.GetCatalogAsync(repository.Id, Ct));
        Assert.Empty((await SearchAsync(store, ["second"])).Repositories);
        Assert.Empty((await SearchAsync(store, [], architecture: "arm")).Repositories);
        Assert.Equal(["plain"], (await SearchAsync(store, [])).Repositories.Select(r => r.Name.Value));
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.SearchAsync))]
    public async Task Search_matches_every_word_as_a_prefix_filters_and_pages_by_cursor()
    {
        await using var store = await CreateStoreAsync();
        await store.Public.EnsureRegistryAsync(PublicA, "alpha", T0, Ct);
        await store.Public.EnsureRegistryAsync(PublicB, "bravo", T0, Ct);
        await store.Public.SetPrimaryAliasAsync(PublicB, "bravo-co", Ct);
        await CreatePublicAsync(store, PublicA, "web/nginx", Catalog("A fast web server", ["x86-64", "ARM 64"], ["Linux"]));
        await CreatePublicAsync(store, PublicA, "db/postgres", Catalog("The database", ["x86-64"], ["Linux"]));
        await CreatePublicAsync(store, PublicB, "nginx", Catalog("Web server for Windows", ["x86-64"], ["Windows"]));
        await CreatePublicAsync(store, PublicB, "busybox");
        // Not public, or in no public registry: never found.
        await store.Repositories.CreateAsync(RepoKey("web/nginx"), T0, Ct);
        await CreatePublicAsync(store, AccountId.Parse("333333333333"), "nginx-orphan");

        Assert.Equal(["busybox", "db/postgres", "nginx", "web/nginx"], Names(await SearchAsync(store, [])));
        Assert.Equal(["nginx", "web/nginx"], Names(await SearchAsync(store, ["ngi"])));
        Assert.Equal(["nginx", "web/nginx"], Names(await SearchAsync(store, ["web", "serv"])));
        Assert.Equal(["web/nginx"], Names(await SearchAsync(store, ["web", "fast"])));
        Assert.Empty(Names(await SearchAsync(store, ["web", "database"])));
        Assert.Equal(["db/postgres"], Names(await SearchAsync(store, ["postgres"])));
        Assert.Equal(["busybox"], Names(await SearchAsync(store, ["busy"])));
        Assert.Empty(Names(await SearchAsync(store, ["nginxx"])));

        Assert.Equal(["web/nginx"], Names(await SearchAsync(store, [], architecture: "arm 64")));
        Assert.Equal(["db/postgres", "nginx", "web/nginx"], Names(await SearchAsync(store, [], architecture: "X86-64")));
        Assert.Equal(["nginx"], Names(await SearchAsync(store, ["nginx"], operatingSystem: "windows")));
        Assert.Equal(["web/nginx"], Names(await SearchAsync(store, ["web"], "x86-64", "linux", PublicA)));
        Assert.Equal(["db/postgres", "web/nginx"], Names(await SearchAsync(store, [], account: PublicA)));

        var nginx = (await SearchAsync(store, ["nginx"])).Repositories;
        Assert.Equal(["bravo-co", "alpha"], nginx.Select(r => r.Alias));
        Assert.Equal(PublicB, nginx[0].Account);
        Assert.Equal("Web server for Windows", nginx[0].Description);
        Assert.Equal(["x86-64", "ARM 64"], nginx[1].Architectures);
        Assert.Equal(["Linux"], nginx[1].OperatingSystems);
        Assert.Equal(T0, nginx[1].CreatedAt);

        // Paging: every repository once, in order, then no cursor.
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await store.Public.SearchAsync(new PublicSearch([], null, null, null, after, 1), Ct);
            Assert.Single(page.Repositories);
            seen.AddRange(Names(page));
            after = page.Next;
        }
        while (after is not null);
        Assert.Equal(["busybox", "db/postgres", "nginx", "web/nginx"], seen);

        var first = await store.Public.SearchAsync(new PublicSearch(["nginx"], null, null, null, null, 1), Ct);
        Assert.NotNull(first.Next);
        Assert.Equal(["web/nginx"], Names(await store.Public.SearchAsync(new PublicSearch(["nginx"], null, null, null, first.Next, 1), Ct)));
        Assert.Null((await store.Public.SearchAsync(new PublicSearch(["nginx"], null, null, null, null, 2), Ct)).Next);
        // A cursor this store never wrote ends the listing rather than failing.
        Assert.Empty(Names(await store.Public.SearchAsync(new PublicSearch([], null, null, null, "not a cursor!", 10), Ct)));
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.SearchAsync))]
    public async Task Search_pages_through_hundreds_of_public_repositories_written_at_once()
    {
        await using var store = await CreateStoreAsync();
        await store.Public.EnsureRegistryAsync(PublicA, "alpha", T0, Ct);
        const int count = 400;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            for (var i = worker; i < count; i += 8)
            {
                await CreatePublicAsync(store, PublicA, $"app{i:D4}", Catalog(i % 10 == 0 ? "tenth service" : "service", [i % 2 == 0 ? "ARM 64" : "x86-64"]));
            }
        }));

        var names = new List<string>();
        string? after = null;
        do
        {
            var page = await store.Public.SearchAsync(new PublicSearch(["serv"], "arm 64", null, null, after, 50), Ct);
            names.AddRange(Names(page));
            after = page.Next;
        }
        while (after is not null);
        Assert.Equal(Enumerable.Range(0, count).Where(i => i % 2 == 0).Select(i => $"app{i:D4}"), names);
        Assert.Equal(count / 10, Names(await store.Public.SearchAsync(new PublicSearch(["tenth", "service"], null, null, null, null, 500), Ct)).Count);
        Assert.Equal(["app0123"], Names(await SearchAsync(store, ["app0123"])));
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.AddAnonymousBytesAsync))]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.GetAnonymousBytesAsync))]
    public async Task Anonymous_bytes_add_up_across_batches_per_month_and_source()
    {
        await using var store = await CreateStoreAsync();
        Assert.Equal(0, await store.Public.GetAnonymousBytesAsync("2026-12", "192.0.2.1", Ct));

        await store.Public.AddAnonymousBytesAsync("2026-12", new Dictionary<string, long> { ["192.0.2.1"] = 100, ["2001:db8::1"] = 7 }, Ct);
        await store.Public.AddAnonymousBytesAsync("2026-12", new Dictionary<string, long>(), Ct);
        // Two nodes flushing at once: both batches count.
        await Task.WhenAll(
            store.Public.AddAnonymousBytesAsync("2026-12", new Dictionary<string, long> { ["192.0.2.1"] = 5_000_000_000, ["2001:db8::1"] = 1 }, Ct),
            store.Public.AddAnonymousBytesAsync("2026-12", new Dictionary<string, long> { ["2001:db8::1"] = 2, ["192.0.2.1"] = 1 }, Ct));
        await store.Public.AddAnonymousBytesAsync("2027-01", new Dictionary<string, long> { ["192.0.2.1"] = 9 }, Ct);

        Assert.Equal(5_000_000_101, await store.Public.GetAnonymousBytesAsync("2026-12", "192.0.2.1", Ct));
        Assert.Equal(10, await store.Public.GetAnonymousBytesAsync("2026-12", "2001:db8::1", Ct));
        Assert.Equal(9, await store.Public.GetAnonymousBytesAsync("2027-01", "192.0.2.1", Ct));
        Assert.Equal(0, await store.Public.GetAnonymousBytesAsync("2027-01", "2001:db8::1", Ct));
    }

    [Fact]
    [Covers(typeof(IPublicRegistryStore), nameof(IPublicRegistryStore.DeleteAnonymousBytesBeforeAsync))]
    public async Task Anonymous_bytes_of_months_before_one_are_forgotten_and_later_ones_kept()
    {
        await using var store = await CreateStoreAsync();
        foreach (var month in new[] { "2026-10", "2026-11", "2026-12" })
        {
            await store.Public.AddAnonymousBytesAsync(month, new Dictionary<string, long> { ["192.0.2.1"] = 10, ["192.0.2.2"] = 20 }, Ct);
        }

        Assert.Equal(2, await store.Public.DeleteAnonymousBytesBeforeAsync("2026-11", Ct));
        Assert.Equal(0, await store.Public.GetAnonymousBytesAsync("2026-10", "192.0.2.1", Ct));
        Assert.Equal(10, await store.Public.GetAnonymousBytesAsync("2026-11", "192.0.2.1", Ct));
        Assert.Equal(20, await store.Public.GetAnonymousBytesAsync("2026-12", "192.0.2.2", Ct));
        Assert.Equal(0, await store.Public.DeleteAnonymousBytesBeforeAsync("2026-11", Ct));
    }

    private static Task<PublicSearchPage> SearchAsync(
        IMetadataStore store, IReadOnlyList<string> words, string? architecture = null, string? operatingSystem = null, AccountId? account = null) =>
        store.Public.SearchAsync(new PublicSearch(words, architecture, operatingSystem, account, null, 100), Ct);

    private static List<string> Names(PublicSearchPage page) => page.Repositories.Select(r => r.Name.Value).ToList();

    /// <summary>Catalogs compared by value (their lists are lists, not the same instances).</summary>
    private sealed class CatalogComparer : IEqualityComparer<RepositoryCatalog?>
    {
        public static readonly CatalogComparer Instance = new();

        public bool Equals(RepositoryCatalog? x, RepositoryCatalog? y) =>
            x is null || y is null ? x is null && y is null
            : x.Description == y.Description && x.Architectures.SequenceEqual(y.Architectures) && x.OperatingSystems.SequenceEqual(y.OperatingSystems)
              && x.AboutText == y.AboutText && x.UsageText == y.UsageText && x.LogoSha256 == y.LogoSha256;

        public int GetHashCode(RepositoryCatalog? obj) => obj?.Description?.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
