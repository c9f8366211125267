using System.Net;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.DataPlane;

public sealed class ListingTests : ServerTest
{
    private static async Task<string[]> ItemsAsync(HttpResponseMessage response, string property)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Oci.Ct));
        return json.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    [Fact]
    public async Task Tags_are_sorted_and_paged_with_link_headers()
    {
        var manifest = await Oci.PushImageAsync(Client, "tags/repo", "b", layers: 0);
        foreach (var tag in new[] { "a", "c", "B", "d" })
        {
            using var put = await Oci.PutManifestAsync(Client, "tags/repo", tag, manifest);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using (var all = await Client.GetAsync("/v2/tags/repo/tags/list", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, all.StatusCode);
            Assert.Equal(["B", "a", "b", "c", "d"], await ItemsAsync(all, "tags"));
            Assert.False(all.Headers.Contains("Link"));
        }

        var seen = new List<string>();
        var next = "/v2/tags/repo/tags/list?n=2";
        var pages = 0;
        while (next is not null)
        {
            using var page = await Client.GetAsync(next, Oci.Ct);
            var items = await ItemsAsync(page, "tags");
            Assert.True(items.Length <= 2);
            seen.AddRange(items);
            pages++;
            next = page.Headers.TryGetValues("Link", out var links) ? ParseLink(links.Single()) : null;
        }

        Assert.Equal(["B", "a", "b", "c", "d"], seen);
        Assert.Equal(3, pages);

        using var after = await Client.GetAsync("/v2/tags/repo/tags/list?last=b", Oci.Ct);
        Assert.Equal(["c", "d"], await ItemsAsync(after, "tags"));
        using var none = await Client.GetAsync("/v2/tags/repo/tags/list?n=0", Oci.Ct);
        Assert.Empty(await ItemsAsync(none, "tags"));
    }

    [Fact]
    public async Task First_page_link_names_n_and_last()
    {
        var manifest = await Oci.PushImageAsync(Client, "linkrepo", "t1", layers: 0);
        using (await Oci.PutManifestAsync(Client, "linkrepo", "t2", manifest))
        {
        }

        using var page = await Client.GetAsync("/v2/linkrepo/tags/list?n=1", Oci.Ct);
        Assert.Equal("</v2/linkrepo/tags/list?n=1&last=t1>; rel=\"next\"", page.Headers.GetValues("Link").Single());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    public async Task Bad_n_is_400(string n)
    {
        await Oci.PushImageAsync(Client, "badn", "v1", layers: 0);
        using var tags = await Client.GetAsync($"/v2/badn/tags/list?n={n}", Oci.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, tags.StatusCode);
        await Oci.ErrorAsync(tags);
        using var catalog = await Client.GetAsync($"/v2/_catalog?n={n}", Oci.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, catalog.StatusCode);
    }

    [Fact]
    public async Task Tags_of_a_missing_repository_is_name_unknown()
    {
        using var response = await Client.GetAsync("/v2/ghost/tags/list", Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Catalog_lists_repositories_with_paging()
    {
        foreach (var name in new[] { "zeta", "alpha/one", "alpha/two", "mid" })
        {
            await Oci.PushBlobAsync(Client, name, Encoding.UTF8.GetBytes(name));
        }

        using (var all = await Client.GetAsync("/v2/_catalog", Oci.Ct))
        {
            Assert.Equal(["alpha/one", "alpha/two", "mid", "zeta"], await ItemsAsync(all, "repositories"));
        }

        using var first = await Client.GetAsync("/v2/_catalog?n=3", Oci.Ct);
        Assert.Equal(["alpha/one", "alpha/two", "mid"], await ItemsAsync(first, "repositories"));
        var link = ParseLink(first.Headers.GetValues("Link").Single());
        Assert.Equal("/v2/_catalog?n=3&last=mid", link);
        using var second = await Client.GetAsync(link, Oci.Ct);
        Assert.Equal(["zeta"], await ItemsAsync(second, "repositories"));
        Assert.False(second.Headers.Contains("Link"));
    }

    [Fact]
    public async Task Host_name_matching_the_pattern_selects_another_registry()
    {
        await Oci.PushBlobAsync(Client, "default/repo", [1]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/other/repo/blobs/uploads/?digest=" + Oci.Sha256([2])) { Content = new ByteArrayContent([2]) };
        request.Headers.Host = $"210987654321.dkr.ecr.eu-west-1.localhost:{Server.BaseAddress.Port}";
        using (var push = await Client.SendAsync(request, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        }

        using var defaultCatalog = await Client.GetAsync("/v2/_catalog", Oci.Ct);
        Assert.Equal(["default/repo"], await ItemsAsync(defaultCatalog, "repositories"));

        using var other = new HttpRequestMessage(HttpMethod.Get, "/v2/_catalog");
        other.Headers.Host = "210987654321.dkr.ecr.eu-west-1.localhost";
        using var otherCatalog = await Client.SendAsync(other, Oci.Ct);
        Assert.Equal(["other/repo"], await ItemsAsync(otherCatalog, "repositories"));
    }

    private static string ParseLink(string header)
    {
        Assert.EndsWith(">; rel=\"next\"", header);
        return header[1..header.IndexOf('>', StringComparison.Ordinal)];
    }
}
