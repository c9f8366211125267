using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>What the ECR API needs of every backend: settings, resource tags, listings, untagging, pull times, keys.</summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 5)]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.UpdateSettingsAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetResourceTagsAsync))]
    public async Task Repository_settings_and_resource_tags_are_stored_at_creation_and_updated()
    {
        await using var store = await CreateStoreAsync();
        var settings = new RepositorySettings(TagMutability.ImmutableWithExclusion, ["latest", "dev-*"], true, "KMS", "alias/k");
        var created = await store.Repositories.CreateAsync(RepoKey("team/set"), settings, [new ResourceTag("b", "2"), new ResourceTag("a", "1")], T0, Ct);
        Assert.NotNull(created);
        Assert.Equal(settings, created.Settings);
        Assert.Equal(settings, (await store.Repositories.GetAsync(RepoKey("team/set"), Ct))!.Settings);
        Assert.Equal([new ResourceTag("a", "1"), new ResourceTag("b", "2")], await store.Repositories.GetResourceTagsAsync(created.Id, Ct));
        Assert.Null(await store.Repositories.CreateAsync(RepoKey("team/set"), RepositorySettings.Default, [], T0, Ct));

        var changed = settings with { Mutability = TagMutability.Mutable, MutabilityExclusions = [], ScanOnPush = false };
        Assert.True(await store.Repositories.UpdateSettingsAsync(created.Id, changed, Ct));
        Assert.Equal(changed, (await store.Repositories.GetAsync(RepoKey("team/set"), Ct))!.Settings);
        Assert.Equal(RepositorySettings.Default, (await CreateRepoAsync(store, "team/plain")).Settings);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CreateAsync), Parameters = 4)]
    public async Task Creation_writes_settings_tags_repository_policy_and_lifecycle_policy_together_and_only_once()
    {
        await using var store = await CreateStoreAsync();
        const string Policy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}""";
        const string Lifecycle = """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""";
        var settings = new RepositorySettings(TagMutability.MutableWithExclusion, ["release-*"], false, "KMS", null);
        var creation = new RepositoryCreation(settings, [new ResourceTag("team", "a")], Policy, Lifecycle);

        var created = await store.Repositories.CreateAsync(RepoKey("made/by-template"), creation, T0, Ct);
        Assert.NotNull(created);
        var read = (await store.Repositories.GetAsync(RepoKey("made/by-template"), Ct))!;
        Assert.Equal((settings, Policy), (read.Settings, read.Policy));
        Assert.Equal((settings, Policy), (created.Settings, created.Policy));
        Assert.Equal([new ResourceTag("team", "a")], await store.Repositories.GetResourceTagsAsync(created.Id, Ct));
        Assert.Equal(Lifecycle, (await store.Lifecycle.GetPolicyAsync(created.Id, Ct))?.Text);
        Assert.Contains(await store.Lifecycle.ListTargetsAsync(Ct), t => t.RepositoryId == created.Id && t.Policy == Lifecycle);

        // An existing repository is left as it is: nothing of a second creation lands on it.
        var other = new RepositoryCreation(RepositorySettings.Default, [new ResourceTag("team", "b")], null, null);
        Assert.Null(await store.Repositories.CreateAsync(RepoKey("made/by-template"), other, T0.AddHours(1), Ct));
        Assert.Equal(Policy, (await store.Repositories.GetAsync(RepoKey("made/by-template"), Ct))!.Policy);
        Assert.Equal([new ResourceTag("team", "a")], await store.Repositories.GetResourceTagsAsync(created.Id, Ct));
        Assert.Equal(Lifecycle, (await store.Lifecycle.GetPolicyAsync(created.Id, Ct))?.Text);

        // Without policies: none are set.
        var plain = await store.Repositories.CreateAsync(RepoKey("made/plain"), new RepositoryCreation(RepositorySettings.Default, []), T0, Ct);
        Assert.Null(plain!.Policy);
        Assert.Null(await store.Lifecycle.GetPolicyAsync(plain.Id, Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.TagAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.UntagAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetResourceTagsAsync))]
    public async Task Resource_tags_overwrite_by_key_refuse_past_the_limit_and_untag()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        Assert.Equal(ResourceTagResult.Tagged, await store.Repositories.TagAsync(repo.Id, [new ResourceTag("k1", "a"), new ResourceTag("k2", "b")], 3, Ct));
        Assert.Equal(ResourceTagResult.Tagged, await store.Repositories.TagAsync(repo.Id, [new ResourceTag("k1", "z"), new ResourceTag("k3", "c")], 3, Ct));
        Assert.Equal(ResourceTagResult.TooManyTags, await store.Repositories.TagAsync(repo.Id, [new ResourceTag("k4", "d")], 3, Ct));
        Assert.Equal([new ResourceTag("k1", "z"), new ResourceTag("k2", "b"), new ResourceTag("k3", "c")], await store.Repositories.GetResourceTagsAsync(repo.Id, Ct));
        Assert.True(await store.Repositories.UntagAsync(repo.Id, ["k2", "absent"], Ct));
        Assert.Equal(["k1", "k3"], (await store.Repositories.GetResourceTagsAsync(repo.Id, Ct)).Select(t => t.Key).ToArray());
        Assert.True(await store.Repositories.DeleteAsync(repo.Id, Ct));
        Assert.Equal(ResourceTagResult.NotFound, await store.Repositories.TagAsync(repo.Id, [new ResourceTag("k", "v")], 3, Ct));
        Assert.False(await store.Repositories.UntagAsync(repo.Id, ["k"], Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.DeleteIfEmptyAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.HasImagesAsync))]
    public async Task DeleteIfEmpty_refuses_a_repository_with_images()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var image = await PutAsync(store, Image(repo.Id, "one", [layer]));
        Assert.True(await store.Images.HasImagesAsync(repo.Id, Ct));
        Assert.Equal(RepositoryDeleteResult.NotEmpty, await store.Repositories.DeleteIfEmptyAsync(repo.Id, Ct));
        Assert.Equal(DeleteManifestResult.Deleted, await store.Images.DeleteManifestAsync(repo.Id, image.Digest, Ct));
        Assert.False(await store.Images.HasImagesAsync(repo.Id, Ct));
        Assert.Equal(RepositoryDeleteResult.Deleted, await store.Repositories.DeleteIfEmptyAsync(repo.Id, Ct));
        Assert.Equal(RepositoryDeleteResult.NotFound, await store.Repositories.DeleteIfEmptyAsync(repo.Id, Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    public async Task Immutable_tag_is_refused_inside_the_write_and_tag_changes_are_reported()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var first = Image(repo.Id, "one", [layer], tag: "v1") with { TagImmutable = true };
        var result = await store.Images.PutManifestAsync(first, Ct);
        Assert.True(result is { Succeeded: true, Created: true, TagChanged: true });

        // Same bytes, same tag, immutable: refused (ECR); mutable: stored with nothing changed.
        Assert.True((await store.Images.PutManifestAsync(first, Ct)).TagImmutable);
        Assert.True(await store.Images.PutManifestAsync(first with { TagImmutable = false }, Ct) is { Succeeded: true, Created: false, TagChanged: false });

        var second = Image(repo.Id, "two", [layer], tag: "v1") with { TagImmutable = true };
        var refused = await store.Images.PutManifestAsync(second, Ct);
        Assert.True(refused is { Succeeded: false, TagImmutable: true });
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, second.Digest, Ct));
        Assert.Equal(first.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct))!.Digest);
        Assert.True(await store.Images.PutManifestAsync(second with { TagImmutable = false }, Ct) is { Succeeded: true, Created: true, TagChanged: true });
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    public async Task Concurrent_first_pushes_of_one_immutable_tag_let_exactly_one_win()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        for (var round = 0; round < 10; round++)
        {
            var tag = $"r{round}";
            var writes = Enumerable.Range(0, 4).Select(i => Image(repo.Id, $"{round}-{i}", [layer], tag: tag) with { TagImmutable = true }).ToArray();
            var results = await Task.WhenAll(writes.Select(w => Task.Run(() => store.Images.PutManifestAsync(w, Ct))));
            var winner = Assert.Single(writes.Zip(results), p => p.Second.Succeeded);
            Assert.All(results.Where(r => !r.Succeeded), r => Assert.True(r.TagImmutable));
            Assert.Equal(winner.First.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, tag, Ct))!.Digest);
        }
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.ListImageIdsAsync), Parameters = 5)]
    public async Task ListImageIds_orders_by_digest_then_tag_filters_and_pages_by_keyset()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var a = await PutAsync(store, Image(repo.Id, "a", [layer], tag: "z"));
        await store.Images.PutManifestAsync(Image(repo.Id, "a", [layer], tag: "b"), Ct);
        var untagged = await PutAsync(store, Image(repo.Id, "u", [layer]));
        var c = await PutAsync(store, Image(repo.Id, "c", [layer], tag: "m"));

        var all = await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Any, null, 100, Ct);
        var expected = new[] { new ImageId(a.Digest, "b"), new ImageId(a.Digest, "z"), new ImageId(untagged.Digest, null), new ImageId(c.Digest, "m") }
            .OrderBy(i => i.Digest.ToString(), StringComparer.Ordinal).ThenBy(i => i.Tag ?? string.Empty, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, all);
        Assert.Equal([new ImageId(untagged.Digest, null)], await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Untagged, null, 100, Ct));
        Assert.Equal(3, (await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Tagged, null, 100, Ct)).Count);

        var paged = new List<ImageId>();
        ImageId? after = null;
        while (true)
        {
            var page = await store.Images.ListImageIdsAsync(repo.Id, TagStatus.Any, after, 1, Ct);
            if (page.Count == 0)
            {
                break;
            }

            paged.AddRange(page);
            after = page[^1];
        }

        Assert.Equal(expected, paged);
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.DescribeImagesAsync), Parameters = 5)]
    [Covers(typeof(IImageStore), nameof(IImageStore.GetImagesAsync))]
    public async Task DescribeImages_reports_tags_sizes_and_pages_by_digest()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var config = await UploadBlobAsync(store, repo.Id, "config", size: 10);
        var big = await UploadBlobAsync(store, repo.Id, "big", size: 1000);
        var small = await UploadBlobAsync(store, repo.Id, "small", size: 100);
        var one = await PutAsync(store, Image(repo.Id, "one", [config, big], tag: "v1", artifactType: "application/x-config", now: T0.AddMinutes(1)));
        await store.Images.PutManifestAsync(Image(repo.Id, "one", [config, big], tag: "latest"), Ct);
        var two = await PutAsync(store, Image(repo.Id, "two", [config, small, small]));
        var index = await PutAsync(store, Index(repo.Id, "idx", [one.Digest, two.Digest], tag: "multi"));

        var all = await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, null, 100, Ct);
        Assert.Equal(new[] { one.Digest, two.Digest, index.Digest }.OrderBy(d => d.ToString(), StringComparer.Ordinal).ToArray(), all.Select(i => i.Digest).ToArray());
        var first = all.Single(i => i.Digest == one.Digest);
        Assert.Equal(["latest", "v1"], first.Tags);
        Assert.Equal(1010, first.Size);
        Assert.Equal("application/x-config", first.ArtifactType);
        Assert.Equal(T0.AddMinutes(1), first.PushedAt);
        Assert.Null(first.LastPulledAt);
        Assert.Equal(110, all.Single(i => i.Digest == two.Digest).Size);
        Assert.Empty(all.Single(i => i.Digest == two.Digest).Tags);
        Assert.Equal(1010, all.Single(i => i.Digest == index.Digest).Size);
        Assert.Equal(MediaTypes.OciIndex, all.Single(i => i.Digest == index.Digest).MediaType);

        Assert.Equal([two.Digest], (await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Untagged, null, 100, Ct)).Select(i => i.Digest).ToArray());
        var firstPage = await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, null, 2, Ct);
        var secondPage = await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, firstPage[^1].Digest, 2, Ct);
        Assert.Equal(all.Select(i => i.Digest), firstPage.Concat(secondPage).Select(i => i.Digest));

        var some = await store.Images.GetImagesAsync(repo.Id, [index.Digest, Digest.Sha256Of("absent"u8), index.Digest], Ct);
        Assert.Equal(["multi"], Assert.Single(some).Tags);
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.UntagImageAsync), Parameters = 3)]
    public async Task UntagImage_removes_the_image_with_its_last_tag_unless_an_index_lists_it()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var image = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "a"));
        await store.Images.PutManifestAsync(Image(repo.Id, "one", [layer], tag: "b"), Ct);
        var child = await PutAsync(store, Image(repo.Id, "child", [layer], tag: "c"));
        await PutAsync(store, Index(repo.Id, "idx", [child.Digest]));

        Assert.Equal(new UntagResult(true, image.Digest, false), await store.Images.UntagImageAsync(repo.Id, "a", Ct));
        Assert.Equal(new UntagResult(true, image.Digest, true), await store.Images.UntagImageAsync(repo.Id, "b", Ct));
        Assert.Null(await store.Images.GetManifestAsync(repo.Id, image.Digest, Ct));
        Assert.Equal(new UntagResult(true, child.Digest, false), await store.Images.UntagImageAsync(repo.Id, "c", Ct));
        Assert.NotNull(await store.Images.GetManifestAsync(repo.Id, child.Digest, Ct));
        Assert.Equal(new UntagResult(false, null, false), await store.Images.UntagImageAsync(repo.Id, "c", Ct));
    }

    [Fact]
    [Covers(typeof(IImageStore), nameof(IImageStore.RecordPullsAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.GetImagesAsync))]
    public async Task RecordPulls_only_moves_the_pull_time_forward()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var image = await PutAsync(store, Image(repo.Id, "one", [layer]));
        await store.Images.RecordPullsAsync([new PullRecord(repo.Id, image.Digest, T0.AddHours(2)), new PullRecord(repo.Id, Digest.Sha256Of("absent"u8), T0)], Ct);
        await store.Images.RecordPullsAsync([new PullRecord(repo.Id, image.Digest, T0.AddHours(1))], Ct);
        Assert.Equal(T0.AddHours(2), Assert.Single(await store.Images.GetImagesAsync(repo.Id, [image.Digest], Ct)).LastPulledAt);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetRegistryPolicyAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.SetRegistryPolicyAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.SetPolicyAsync))]
    public async Task Registry_and_repository_policies_are_set_read_and_removed()
    {
        await using var store = await CreateStoreAsync();
        var other = new RegistryKey(AccountId.Parse("123456789012"), "eu-west-1");
        Assert.Null(await store.Repositories.GetRegistryPolicyAsync(Registry, Ct));
        Assert.Null(await store.Repositories.SetRegistryPolicyAsync(Registry, "{\"a\":1}", Ct));
        Assert.Equal("{\"a\":1}", await store.Repositories.SetRegistryPolicyAsync(Registry, "{\"a\":2}", Ct));
        Assert.Equal("{\"a\":2}", await store.Repositories.GetRegistryPolicyAsync(Registry, Ct));
        Assert.Null(await store.Repositories.GetRegistryPolicyAsync(other, Ct));
        Assert.Equal("{\"a\":2}", await store.Repositories.SetRegistryPolicyAsync(Registry, null, Ct));
        Assert.Null(await store.Repositories.GetRegistryPolicyAsync(Registry, Ct));

        var repo = await CreateRepoAsync(store);
        Assert.Null(repo.Policy);
        Assert.True(await store.Repositories.SetPolicyAsync(repo.Id, "{}", Ct));
        Assert.Equal("{}", (await store.Repositories.GetAsync(repo.Key, Ct))!.Policy);
        Assert.True(await store.Repositories.SetPolicyAsync(repo.Id, null, Ct));
        Assert.Null((await store.Repositories.GetAsync(repo.Key, Ct))!.Policy);
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.GetRegistrySettingsAsync))]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.SetRegistrySettingAsync))]
    public async Task Registry_settings_are_kept_per_registry_and_survive_concurrent_writes()
    {
        await using var store = await CreateStoreAsync();
        var other = new RegistryKey(AccountId.Parse("123456789012"), "eu-west-1");
        Assert.Empty(await store.Repositories.GetRegistrySettingsAsync(Registry, Ct));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.Repositories.SetRegistrySettingAsync(Registry, $"S{i}", $"v{i}", Ct))));
        var settings = await store.Repositories.GetRegistrySettingsAsync(Registry, Ct);
        Assert.Equal(8, settings.Count);
        await store.Repositories.SetRegistrySettingAsync(Registry, "S0", "changed", Ct);
        Assert.Equal("changed", (await store.Repositories.GetRegistrySettingsAsync(Registry, Ct))["S0"]);
        Assert.Empty(await store.Repositories.GetRegistrySettingsAsync(other, Ct));

        // The policy and the settings share a row without overwriting each other.
        await store.Repositories.SetRegistryPolicyAsync(Registry, "{}", Ct);
        Assert.Equal(8, (await store.Repositories.GetRegistrySettingsAsync(Registry, Ct)).Count);
        Assert.Equal("{}", await store.Repositories.GetRegistryPolicyAsync(Registry, Ct));
    }

    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.ChangeRegistrySettingAsync))]
    public async Task A_registry_setting_changed_by_many_callers_at_once_loses_no_change_and_null_removes_it()
    {
        await using var store = await CreateStoreAsync();
        await store.Repositories.SetRegistrySettingAsync(Registry, "other", "kept", Ct);

        // Each caller appends to a list kept in one setting: under the row lock none overwrites another.
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => store.Repositories.ChangeRegistrySettingAsync(
            Registry, "list", current => ((current is null ? "" : current + ",") + i, i), Ct))));
        Assert.Equal(Enumerable.Range(0, 12), results.Order());
        var list = (await store.Repositories.GetRegistrySettingsAsync(Registry, Ct))["list"];
        Assert.Equal(Enumerable.Range(0, 12), list.Split(',').Select(int.Parse).Order());

        // The same value changes nothing; null removes the setting and leaves the others.
        Assert.Equal("same", await store.Repositories.ChangeRegistrySettingAsync(Registry, "list", current => (current, "same"), Ct));
        Assert.Equal(list, (await store.Repositories.GetRegistrySettingsAsync(Registry, Ct))["list"]);
        Assert.True(await store.Repositories.ChangeRegistrySettingAsync(Registry, "list", current => ((string?)null, current is not null), Ct));
        var settings = await store.Repositories.GetRegistrySettingsAsync(Registry, Ct);
        Assert.False(settings.ContainsKey("list"));
        Assert.Equal("kept", settings["other"]);

        // A registry without a row gets one.
        var fresh = new RegistryKey(AccountId.Parse("210987654321"), "us-east-1");
        Assert.Null(await store.Repositories.ChangeRegistrySettingAsync(fresh, "x", current => ("1", current), Ct));
        Assert.Equal("1", (await store.Repositories.GetRegistrySettingsAsync(fresh, Ct))["x"]);
    }

    [Fact]
    [Covers(typeof(IServerKeyStore), nameof(IServerKeyStore.GetOrCreateAsync))]
    [Covers(typeof(IServerKeyStore), nameof(IServerKeyStore.ListAsync))]
    [Covers(typeof(IServerKeyStore), nameof(IServerKeyStore.DeleteAsync))]
    public async Task Server_keys_are_created_once_and_then_returned()
    {
        await using var store = await CreateStoreAsync();
        byte[] first = [1, 2, 3];
        Assert.Equal(first, await store.Keys.GetOrCreateAsync("k", first, T0, Ct));
        Assert.Equal(first, await store.Keys.GetOrCreateAsync("k", [9, 9], T0, Ct));
        Assert.Equal([7], await store.Keys.GetOrCreateAsync("other", [7], T0, Ct));

        // A rotated family is listed by prefix, and a key can be deleted.
        await store.Keys.GetOrCreateAsync("family-2", [2], T0, Ct);
        await store.Keys.GetOrCreateAsync("family-1", [1], T0, Ct);
        await store.Keys.GetOrCreateAsync("familyX", [3], T0, Ct);
        Assert.Equal(["family-1", "family-2"], (await store.Keys.ListAsync("family-", Ct)).Select(k => k.Name));
        Assert.Equal([2], (await store.Keys.ListAsync("family-", Ct))[1].Value);
        Assert.Empty(await store.Keys.ListAsync("%", Ct));
        Assert.True(await store.Keys.DeleteAsync("family-1", Ct));
        Assert.False(await store.Keys.DeleteAsync("family-1", Ct));
        Assert.Equal(["family-2"], (await store.Keys.ListAsync("family-", Ct)).Select(k => k.Name));
    }
}
