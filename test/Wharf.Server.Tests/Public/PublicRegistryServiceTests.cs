using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Metadata.Sqlite;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// <see cref="PublicRegistryService"/> over a real SQLite store and the real <see cref="PolicyAuthorizer"/>, on a fake
/// clock: registries and aliases, public repositories with catalog data, catalog and display name reads and writes, search.
/// </summary>
public sealed class PublicRegistryServiceTests : IAsyncLifetime
{
    private static readonly AccountId AccountA = AccountId.Parse("111111111111");
    private static readonly AccountId AccountB = AccountId.Parse("222222222222");
    private static readonly Caller RootA = Caller.Root(AccountA);
    private static readonly Caller RootB = Caller.Root(AccountB);
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-public-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
    private SqliteMetadataStore store = null!;
    private PublicRegistryService service = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        store = new SqliteMetadataStore(Path.Combine(directory, "wharf.db"));
        await store.MigrateAsync(Ct);
        service = NewNode();
    }

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task The_first_public_repository_makes_the_registry_with_a_default_alias_and_its_catalog()
    {
        Assert.Null(await service.GetRegistryAsync(AccountA, Ct));
        var catalog = new CatalogInput("A web server", ["x86-64", "ARM 64"], ["Linux"], "# About", "docker pull", Png);

        var (repository, stored) = await service.CreateRepositoryAsync(RootA, RepositoryName.Parse("web/nginx"), catalog, [new ResourceTag("team", "web")], Ct);

        Assert.Equal(new RepositoryKey(RegistryKey.Public(AccountA), RepositoryName.Parse("web/nginx")), repository.Key);
        Assert.Equal("A web server", stored.Description);
        Assert.Equal(["x86-64", "ARM 64"], stored.Architectures);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Png)), stored.LogoSha256);
        Assert.Equal(Png, (await store.Public.GetLogoAsync(stored.LogoSha256!, Ct))!.Bytes);
        Assert.Equal([new ResourceTag("team", "web")], await store.Repositories.GetResourceTagsAsync(repository.Id, Ct));

        var registry = (await service.GetRegistryAsync(AccountA, Ct))!;
        var alias = Assert.Single(registry.Aliases);
        Assert.Matches("^[a-z][a-z0-9]{7}$", alias.Name);
        Assert.True(alias.Primary && alias.Default);
        Assert.Equal(RegistryAliasStatus.Active, alias.Status);
        Assert.Equal(RegistryKey.Public(AccountA), await service.ResolveAliasAsync(alias.Name, Ct));

        // A second repository, without catalog data: same registry, found by its name.
        var (second, empty) = await service.CreateRepositoryAsync(RootA, RepositoryName.Parse("tools/busybox"), null, [], Ct);
        Assert.Equal(RepositoryCatalog.Empty, empty);
        Assert.Equal(registry.Aliases, (await service.GetRegistryAsync(AccountA, Ct))!.Aliases);
        Assert.Equal(RepositoryCatalog.Empty, await service.GetCatalogAsync(RootA, second.Key, Ct));
        Assert.Equal(["tools/busybox"], Names(await service.SearchAsync("Busy", null, null, null, null, 10, Ct)));
        Assert.Equal(["web/nginx"], Names(await service.SearchAsync("WEB server", "arm 64", "LINUX", AccountA, null, 10, Ct)));
        Assert.Equal(["tools/busybox", "web/nginx"], Names(await service.SearchAsync("  ", null, null, null, null, 10, Ct)));

        var again = await Assert.ThrowsAsync<WharfException>(() => service.CreateRepositoryAsync(RootA, RepositoryName.Parse("web/nginx"), null, [], Ct));
        Assert.Equal(WharfErrorCode.RepositoryAlreadyExists, again.Code);
    }

    [Fact]
    public async Task Bad_catalog_input_and_tags_are_refused_before_anything_is_written()
    {
        var name = RepositoryName.Parse("app");
        async Task<WharfException> CreateAsync(CatalogInput? catalog, IReadOnlyList<ResourceTag> tags) =>
            await Assert.ThrowsAsync<WharfException>(() => service.CreateRepositoryAsync(RootA, name, catalog, tags, Ct));

        var gif = await CreateAsync(new CatalogInput(null, null, null, null, null, "GIF89a..."u8.ToArray()), []);
        Assert.Equal(WharfErrorCode.InvalidParameter, gif.Code);
        Assert.Contains("PNG or JPEG", gif.Message, StringComparison.Ordinal);
        var big = new byte[PublicRegistryService.MaxLogoBytes + 1];
        Png.CopyTo(big, 0);
        Assert.Contains("512000", (await CreateAsync(new CatalogInput(null, null, null, null, null, big), [])).Message, StringComparison.Ordinal);
        Assert.Equal(WharfErrorCode.InvalidTagParameter, (await CreateAsync(null, [new ResourceTag("aws:reserved", "x")])).Code);
        Assert.Equal(WharfErrorCode.TooManyTags, (await CreateAsync(null, Enumerable.Range(0, 51).Select(i => new ResourceTag($"k{i}", "v")).ToList())).Code);

        Assert.Null(await store.Repositories.GetAsync(new RepositoryKey(RegistryKey.Public(AccountA), name), Ct));
        Assert.Null(await service.GetRegistryAsync(AccountA, Ct));
    }

    [Fact]
    public async Task Catalog_data_is_replaced_whole_but_an_omitted_logo_stays()
    {
        var (repository, created) = await service.CreateRepositoryAsync(RootA, RepositoryName.Parse("app"), new CatalogInput("old words", ["ARM"], ["Linux"], "about", "usage", Png), [], Ct);

        var put = await service.PutCatalogAsync(RootA, repository.Key, new CatalogInput("New text", null, ["Windows"], null, null, null), Ct);
        Assert.Equal(("New text", created.LogoSha256, (string?)null, (string?)null), (put.Description, put.LogoSha256, put.AboutText, put.UsageText));
        var read = await service.GetCatalogAsync(RootA, repository.Key, Ct);
        Assert.Equal(("New text", created.LogoSha256, (string?)null), (read.Description, read.LogoSha256, read.AboutText));
        Assert.Empty(read.Architectures);
        Assert.Equal(["Windows"], read.OperatingSystems);
        Assert.Empty(Names(await service.SearchAsync("old", null, null, null, null, 10, Ct)));
        Assert.Equal(["app"], Names(await service.SearchAsync("new", null, "windows", null, null, 10, Ct)));

        // An empty logo removes it.
        Assert.Null((await service.PutCatalogAsync(RootA, repository.Key, new CatalogInput(null, null, null, null, null, []), Ct)).LogoSha256);
        Assert.Null((await service.GetCatalogAsync(RootA, repository.Key, Ct)).LogoSha256);

        var missing = new RepositoryKey(RegistryKey.Public(AccountA), RepositoryName.Parse("nothere"));
        Assert.Equal(WharfErrorCode.NameUnknown, (await Assert.ThrowsAsync<WharfException>(() => service.GetCatalogAsync(RootA, missing, Ct))).Code);
        Assert.Equal(WharfErrorCode.NameUnknown, (await Assert.ThrowsAsync<WharfException>(() => service.PutCatalogAsync(RootA, missing, new CatalogInput(null, null, null, null, null, null), Ct))).Code);
    }

    [Fact]
    public async Task Another_account_and_an_anonymous_caller_are_denied()
    {
        var (repository, _) = await service.CreateRepositoryAsync(RootA, RepositoryName.Parse("app"), null, [], Ct);
        var anonymous = new Caller(AccountA, "anonymous", IsAnonymous: true);

        foreach (var caller in new[] { RootB, anonymous })
        {
            Assert.Equal(WharfErrorCode.Denied, (await Assert.ThrowsAsync<WharfException>(() => service.GetCatalogAsync(caller, repository.Key, Ct))).Code);
            Assert.Equal(WharfErrorCode.Denied, (await Assert.ThrowsAsync<WharfException>(() => service.PutCatalogAsync(caller, repository.Key, new CatalogInput("x", null, null, null, null, null), Ct))).Code);
        }

        Assert.Equal(WharfErrorCode.Denied, (await Assert.ThrowsAsync<WharfException>(() => service.CreateRepositoryAsync(anonymous, RepositoryName.Parse("sneaky"), null, [], Ct))).Code);
        Assert.Equal(WharfErrorCode.Denied, (await Assert.ThrowsAsync<WharfException>(() => service.PutDisplayNameAsync(anonymous, "x", Ct))).Code);
        Assert.Equal(WharfErrorCode.Denied, (await Assert.ThrowsAsync<WharfException>(() => service.GetDisplayNameAsync(anonymous, Ct))).Code);
    }

    [Fact]
    public async Task A_chosen_alias_is_primary_unique_across_accounts_and_seen_by_other_nodes_within_the_cache_time()
    {
        var otherNode = NewNode();
        Assert.Null(await otherNode.ResolveAliasAsync("acme", Ct));

        var registry = await service.SetAliasAsync(AccountA, "acme", Ct);
        Assert.Equal("acme", registry.PrimaryAlias);
        var aliases = registry.Aliases.ToDictionary(a => a.Name);
        Assert.Equal(2, aliases.Count);
        Assert.True(aliases["acme"] is { Primary: true, Default: false });
        Assert.Single(aliases.Values, a => a is { Primary: false, Default: true });
        Assert.Equal(RegistryKey.Public(AccountA), await service.ResolveAliasAsync("acme", Ct));

        // The other node remembered "unknown" briefly; then it sees the alias.
        Assert.Null(await otherNode.ResolveAliasAsync("acme", Ct));
        time.Advance(PublicRegistryService.NegativeAliasCacheTime);
        Assert.Equal(RegistryKey.Public(AccountA), await otherNode.ResolveAliasAsync("acme", Ct));

        var taken = await Assert.ThrowsAsync<WharfException>(() => service.SetAliasAsync(AccountB, "acme", Ct));
        Assert.Equal(WharfErrorCode.RegistryAliasTaken, taken.Code);
        Assert.Contains("acme", taken.Message, StringComparison.Ordinal);
        Assert.Null(await service.GetRegistryAsync(AccountB, Ct));
        foreach (var bad in new[] { "A", "Acme", "-acme", "acme--x", new string('a', 51), "v2", "token", "logo" })
        {
            Assert.Equal(WharfErrorCode.InvalidParameter, (await Assert.ThrowsAsync<WharfException>(() => service.SetAliasAsync(AccountB, bad, Ct))).Code);
        }

        // A's new choice releases "acme": this node forgets at once, the other within the cache time.
        await service.SetAliasAsync(AccountA, "acme-corp", Ct);
        Assert.Null(await service.ResolveAliasAsync("acme", Ct));
        Assert.Equal(RegistryKey.Public(AccountA), await otherNode.ResolveAliasAsync("acme", Ct));
        time.Advance(PublicRegistryService.AliasCacheTime);
        Assert.Null(await otherNode.ResolveAliasAsync("acme", Ct));
        Assert.Null(await service.ResolveAliasAsync("Not An Alias", Ct));
    }

    [Fact]
    public async Task Verified_and_display_name_make_the_registry_when_it_has_none()
    {
        Assert.Null(await service.GetDisplayNameAsync(RootB, Ct));
        Assert.Equal("Bravo Inc.", await service.PutDisplayNameAsync(RootB, "Bravo Inc.", Ct));
        Assert.Equal("Bravo Inc.", await service.GetDisplayNameAsync(RootB, Ct));
        Assert.Single((await service.GetRegistryAsync(AccountB, Ct))!.Aliases);
        Assert.Null(await service.PutDisplayNameAsync(RootB, "", Ct));
        Assert.Null(await service.GetDisplayNameAsync(RootB, Ct));

        Assert.True((await service.SetVerifiedAsync(AccountA, true, Ct)).Verified);
        Assert.True((await service.GetRegistryAsync(AccountA, Ct))!.Verified);
        Assert.False((await service.SetVerifiedAsync(AccountA, false, Ct)).Verified);
        Assert.False((await service.GetRegistryAsync(AccountA, Ct))!.Verified);
    }

    [Fact]
    public async Task Search_pages_with_the_stores_cursor_and_bounds_its_input()
    {
        foreach (var i in Enumerable.Range(0, 5))
        {
            await service.CreateRepositoryAsync(RootA, RepositoryName.Parse($"app{i}"), null, [], Ct);
        }

        var first = await service.SearchAsync("app", null, null, null, null, 2, Ct);
        var second = await service.SearchAsync("app", null, null, null, first.Next, 2, Ct);
        var third = await service.SearchAsync("app", null, null, null, second.Next, 2, Ct);
        Assert.Equal(["app0", "app1", "app2", "app3", "app4"], Names(first).Concat(Names(second)).Concat(Names(third)));
        Assert.Null(third.Next);

        Assert.Single(Names(await service.SearchAsync(null, null, null, null, null, 0, Ct)));
        Assert.Empty(Names(await service.SearchAsync(null, new string('x', 51), null, null, null, 10, Ct)));
        Assert.Equal(5, Names(await service.SearchAsync(new string(' ', 100_000) + "app", null, null, null, "", 10_000, Ct)).Count);
    }

    private PublicRegistryService NewNode() =>
        new(store, new PolicyAuthorizer(store, time, NullLogger<PolicyAuthorizer>.Instance), time);

    private static List<string> Names(PublicSearchPage page) => page.Repositories.Select(r => r.Name.Value).ToList();
}
