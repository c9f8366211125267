using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>What signing needs of every backend: one server key per name whichever node asks first, and key families by prefix.</summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IServerKeyStore), nameof(IServerKeyStore.GetOrCreateAsync))]
    public async Task Nodes_racing_to_create_one_key_all_get_the_one_that_was_stored()
    {
        await using var store = await CreateStoreAsync();

        var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Keys.GetOrCreateAsync("signing", [(byte)i, 42], T0, Ct))));

        Assert.Single(keys.Select(k => Convert.ToHexString(k)).Distinct(StringComparer.Ordinal));
        Assert.Equal(42, keys[0][1]);
        Assert.Equal(keys[0], await store.Keys.GetOrCreateAsync("signing", [9], T0.AddDays(1), Ct));
        Assert.Equal(keys[0], Assert.Single(await store.Keys.ListAsync("signing", Ct)).Value);
    }

    [Fact]
    [Covers(typeof(IServerKeyStore), nameof(IServerKeyStore.ListAsync))]
    [Covers(typeof(IServerKeyStore), nameof(IServerKeyStore.DeleteAsync))]
    public async Task A_key_prefix_is_matched_literally_and_an_empty_one_lists_every_key_by_name()
    {
        await using var store = await CreateStoreAsync();
        foreach (var name in new[] { "page_b", "pageXb", "page_a", "Page_c", "url" })
        {
            await store.Keys.GetOrCreateAsync(name, [1], T0, Ct);
        }

        Assert.Equal(["page_a", "page_b"], (await store.Keys.ListAsync("page_", Ct)).Select(k => k.Name));
        Assert.Equal(["Page_c", "pageXb", "page_a", "page_b", "url"], (await store.Keys.ListAsync("", Ct)).Select(k => k.Name));
        Assert.Empty(await store.Keys.ListAsync("page_a-", Ct));
        Assert.False(await store.Keys.DeleteAsync("page_", Ct)); // a prefix is not a name
        Assert.True(await store.Keys.DeleteAsync("page_a", Ct));
        Assert.Equal(["page_b"], (await store.Keys.ListAsync("page_", Ct)).Select(k => k.Name));
    }
}
