using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Secrets;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The secrets: one name per registry, versions replaced whole under the secret's row, and concurrent changes that do not lose each other.</summary>
public abstract partial class MetadataStoreContract
{
    private static SecretRecord Secret(string name, RegistryKey? registry = null) =>
        new(0, registry ?? Registry, name, $"arn:aws:secretsmanager:{(registry ?? Registry).Region}:{(registry ?? Registry).Account}:secret:{name}-AbC123", "d", null,
            [new ResourceTag("team", "a")], T0, T0, null, null, null);

    private static SecretVersion SecretVersionOf(string id, params string[] stages) => new(id, [1, 2, 3, (byte)id.Length], false, stages, T0);

    [Fact]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.CreateAsync))]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.GetAsync))]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.GetByArnAsync))]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.ListVersionsAsync))]
    public async Task A_secret_name_is_taken_once_per_registry_and_reads_back_by_name_and_arn()
    {
        await using var store = await CreateStoreAsync();
        Assert.True(await store.Secrets.CreateAsync(Secret("app/db"), SecretVersionOf("v1", "AWSCURRENT"), Ct));
        Assert.False(await store.Secrets.CreateAsync(Secret("app/db") with { Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-ZZZZZZ" }, null, Ct));
        var west = new RegistryKey(Registry.Account, "eu-west-1");
        Assert.True(await store.Secrets.CreateAsync(Secret("app/db", west), null, Ct));

        var byName = await store.Secrets.GetAsync(Registry, "app/db", Ct);
        Assert.NotNull(byName);
        Assert.Equal(("d", "team", "a", T0), (byName.Description, byName.Tags[0].Key, byName.Tags[0].Value, byName.CreatedAt));
        Assert.Null(byName.DeletionDate);
        Assert.Equal((byName.Id, "app/db"), ((await store.Secrets.GetByArnAsync(byName.Arn, Ct))!.Id, byName.Name));
        Assert.Null(await store.Secrets.GetByArnAsync(byName.Arn[..^1], Ct));
        Assert.Null(await store.Secrets.GetAsync(Registry, "app/DB", Ct));

        var versions = await store.Secrets.ListVersionsAsync(byName.Id, Ct);
        var version = Assert.Single(versions);
        Assert.Equal(("v1", false, "AWSCURRENT"), (version.VersionId, version.IsBinary, string.Join(',', version.Stages)));
        Assert.Equal(new byte[] { 1, 2, 3, 2 }, version.SealedValue);
        Assert.Empty(await store.Secrets.ListVersionsAsync((await store.Secrets.GetAsync(west, "app/db", Ct))!.Id, Ct));
    }

    [Fact]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.ChangeAsync))]
    public async Task A_secret_change_replaces_the_row_and_the_version_set_and_concurrent_changes_all_apply()
    {
        await using var store = await CreateStoreAsync();
        await store.Secrets.CreateAsync(Secret("app/db"), SecretVersionOf("v1", "AWSCURRENT"), Ct);
        var id = (await store.Secrets.GetAsync(Registry, "app/db", Ct))!.Id;

        var changed = await store.Secrets.ChangeAsync(
            id,
            (s, versions) => new SecretChange<int>(
                s with { Description = "new", Tags = [], DeletedAt = T0, DeletionDate = T0.AddDays(7), ChangedAt = T0.AddSeconds(1) },
                [versions[0] with { Stages = ["AWSPREVIOUS"] }, SecretVersionOf("v2", "AWSCURRENT", "blue")],
                versions.Count),
            Ct);
        Assert.Equal(1, changed!.Result);
        var secret = (await store.Secrets.GetAsync(Registry, "app/db", Ct))!;
        Assert.Equal(("new", 0, T0.AddDays(7), T0.AddSeconds(1)), (secret.Description, secret.Tags.Count, secret.DeletionDate, secret.ChangedAt));
        Assert.Equal([("v1", "AWSPREVIOUS"), ("v2", "AWSCURRENT,blue")], (await store.Secrets.ListVersionsAsync(id, Ct)).Select(v => (v.VersionId, string.Join(',', v.Stages))));

        // A version left out goes; null writes nothing.
        await store.Secrets.ChangeAsync(id, (_, versions) => new SecretChange<bool>(null, [versions[1]], true), Ct);
        Assert.Equal(["v2"], (await store.Secrets.ListVersionsAsync(id, Ct)).Select(v => v.VersionId));
        Assert.Null(await store.Secrets.ChangeAsync<bool>(id + 1000, (_, _) => throw new InvalidOperationException("not called"), Ct));

        // Twenty writers each add a version under the row: none is lost.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(
            () => store.Secrets.ChangeAsync(id, (s, versions) => new SecretChange<bool>(null, [.. versions, SecretVersionOf($"c{i}")], true), Ct),
            Ct)));
        Assert.Equal(21, (await store.Secrets.ListVersionsAsync(id, Ct)).Count);
    }

    [Fact]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.ListAsync))]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.RecordAccessAsync))]
    [Covers(typeof(ISecretStore), nameof(ISecretStore.DeleteAsync))]
    public async Task Secrets_list_by_name_in_pages_record_access_forward_and_delete_with_their_versions()
    {
        await using var store = await CreateStoreAsync();
        foreach (var name in new[] { "b", "a", "c/1", "C" })
        {
            await store.Secrets.CreateAsync(Secret(name), SecretVersionOf("v1", "AWSCURRENT"), Ct);
        }

        await store.Secrets.CreateAsync(Secret("z", new RegistryKey(AccountId.Parse("210987654321"), "us-east-1")), null, Ct);
        Assert.Equal(["C", "a", "b", "c/1"], (await store.Secrets.ListAsync(Registry, null, 10, Ct)).Select(s => s.Name));
        Assert.Equal(["b"], (await store.Secrets.ListAsync(Registry, "a", 1, Ct)).Select(s => s.Name));

        var a = (await store.Secrets.GetAsync(Registry, "a", Ct))!;
        await store.Secrets.RecordAccessAsync(a.Id, T0.AddDays(1), Ct);
        await store.Secrets.RecordAccessAsync(a.Id, T0, Ct);
        Assert.Equal(T0.AddDays(1), (await store.Secrets.GetAsync(Registry, "a", Ct))!.AccessedAt);

        Assert.True(await store.Secrets.DeleteAsync(a.Id, Ct));
        Assert.False(await store.Secrets.DeleteAsync(a.Id, Ct));
        Assert.Null(await store.Secrets.GetAsync(Registry, "a", Ct));
        Assert.Empty(await store.Secrets.ListVersionsAsync(a.Id, Ct));

        // The name is free again, for a secret with another ARN.
        Assert.True(await store.Secrets.CreateAsync(Secret("a") with { Arn = a.Arn[..^6] + "QwErTy" }, null, Ct));
    }
}
