using Wharf.Core.Events;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// Keyset pages (issue 19's scale fixes rewrote every one so each reads one index range): walked with every page
/// size, each listing yields every item exactly once in its order, a cursor that names no item (between two, before
/// all, past the end) is a position, and a page past the end is empty. Names sit at the boundaries ordinal order
/// cares about ('-' &lt; '.' &lt; '/' &lt; digits &lt; letters, a name and its extensions).
/// </summary>
public abstract partial class MetadataStoreContract
{
    private static readonly string[] BoundaryNames = ["aa", "aa-b", "aa.b", "aa/b", "aa0", "aab", "bb", "bb/a", "bba", "zz"];

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ListAsync))]
    public async Task Repository_pages_yield_every_name_once_in_order_whatever_the_page_size()
    {
        await using var store = await CreateStoreAsync();
        foreach (var name in BoundaryNames.Reverse())
        {
            await CreateRepoAsync(store, name);
        }

        // Another registry's names interleave in the key but never in the page.
        await store.Repositories.CreateAsync(RepoKey("aa-a", new RegistryKey(Registry.Account, "eu-west-1")), T0, Ct);

        for (var size = 1; size <= BoundaryNames.Length + 1; size++)
        {
            var names = await WalkAsync<string>(async after => (await store.Repositories.ListAsync(Registry, after, size, Ct)).Select(r => r.Key.Name.Value).ToList(), n => n);
            Assert.Equal(BoundaryNames, names);
        }

        Assert.Equal(["aa.b", "aa/b"], (await store.Repositories.ListAsync(Registry, "aa-c", 2, Ct)).Select(r => r.Key.Name.Value));
        Assert.Equal(["aa", "aa-b"], (await store.Repositories.ListAsync(Registry, "", 2, Ct)).Select(r => r.Key.Name.Value));
        Assert.Empty(await store.Repositories.ListAsync(Registry, "zz", 5, Ct));
        Assert.Empty(await store.Repositories.ListAsync(Registry, "zzz", 5, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListTagsAsync))]
    public async Task Tag_pages_yield_every_tag_once_in_order_whatever_the_page_size()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var tags = BoundaryNames.Select(n => n.Replace('/', '_')).Order(StringComparer.Ordinal).ToArray();
        for (var i = 0; i < tags.Length; i++)
        {
            await PutAsync(store, Image(repo.Id, "image" + (i % 3), [layer], tag: tags[i]));
        }

        for (var size = 1; size <= tags.Length + 1; size++)
        {
            Assert.Equal(tags, await WalkAsync<string>(async last => [.. await store.Images.ListTagsAsync(repo.Id, last, size, Ct)], t => t));
        }

        Assert.Equal(["aa.b", "aa0"], await store.Images.ListTagsAsync(repo.Id, "aa-c", 2, Ct));
        Assert.Empty(await store.Images.ListTagsAsync(repo.Id, "zz", 5, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListImageIdsAsync), Parameters = 6)]
    [Covers(typeof(IImageStore), nameof(IImageStore.DescribeImagesAsync), Parameters = 6)]
    public async Task Image_pages_yield_every_image_once_in_order_for_every_filter_and_page_size()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var images = new List<(Digest Digest, string[] Tags, bool Archived)>();
        for (var i = 0; i < 9; i++)
        {
            // 0, 3, 6 untagged; the rest with one to three tags, some names shared across images' boundaries.
            string[] names = (i % 3) switch { 0 => [], 1 => [$"v{i}"], _ => [$"a{i}", $"a{i}-x", $"b{i}"] };
            var digest = (await PutAsync(store, Image(repo.Id, "paged" + i, [layer], tag: names.FirstOrDefault()))).Digest;
            foreach (var name in names.Skip(1))
            {
                await PutAsync(store, Image(repo.Id, "paged" + i, [layer], tag: name));
            }

            var archived = i is 4 or 6;
            if (archived)
            {
                Assert.Equal(LifecycleApplyResult.Applied, await store.Lifecycle.SetStorageClassAsync(repo.Id, digest, StorageClass.Archive, null, new OutboxEvent("ECR Image Action", "{}", T0), Ct));
            }

            images.Add((digest, names, archived));
        }

        foreach (var status in new[] { TagStatus.Any, TagStatus.Tagged, TagStatus.Untagged })
        {
            foreach (var imageStatus in new[] { ImageStatusFilter.Active, ImageStatusFilter.Archived, ImageStatusFilter.Any })
            {
                var chosen = images
                    .Where(i => status switch { TagStatus.Tagged => i.Tags.Length > 0, TagStatus.Untagged => i.Tags.Length == 0, _ => true })
                    .Where(i => imageStatus switch { ImageStatusFilter.Active => !i.Archived, ImageStatusFilter.Archived => i.Archived, _ => true })
                    .OrderBy(i => i.Digest.ToString(), StringComparer.Ordinal)
                    .ToList();
                var ids = chosen.SelectMany(i => i.Tags.Length == 0 ? [new ImageId(i.Digest, null)] : i.Tags.Select(t => new ImageId(i.Digest, t)))
                    .OrderBy(i => i.Digest.ToString(), StringComparer.Ordinal).ThenBy(i => i.Tag ?? string.Empty, StringComparer.Ordinal)
                    .ToList();
                foreach (var size in new[] { 1, 2, 3, 100 })
                {
                    var listed = await WalkAsync<ImageId>(async after => [.. await store.Images.ListImageIdsAsync(repo.Id, status, imageStatus, after, size, Ct)], i => i);
                    Assert.Equal(ids, listed);

                    var described = await WalkAsync<ImageSummary>(
                        async after => [.. await store.Images.DescribeImagesAsync(repo.Id, status, imageStatus, after?.Digest, size, Ct)],
                        s => s);
                    Assert.Equal(chosen.Select(i => (i.Digest, string.Join(',', i.Tags.Order(StringComparer.Ordinal)))), described.Select(d => (d.Digest, string.Join(',', d.Tags))));
                }
            }
        }

        // A cursor is a position: past the last digest, nothing; at an untagged image, the next image.
        var last = images.Select(i => i.Digest.ToString()).Max(StringComparer.Ordinal)!;
        Assert.Empty(await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Any, ImageStatusFilter.Any, new ImageId(Digest.Parse(last), "zzz"), 10, Ct));
        Assert.Empty(await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, ImageStatusFilter.Any, Digest.Parse(last), 10, Ct));
    }

    // Pages until an empty one, each after the last item of the one before; a page is never longer than asked.
    private static async Task<List<T>> WalkAsync<T>(Func<T?, Task<List<T>>> page, Func<T, T> cursor)
        where T : class
    {
        var items = new List<T>();
        T? after = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var next = await page(after);
            if (next.Count == 0)
            {
                return items;
            }

            items.AddRange(next);
            after = cursor(next[^1]);
        }

        throw new InvalidOperationException("the pages never ended");
    }
}
