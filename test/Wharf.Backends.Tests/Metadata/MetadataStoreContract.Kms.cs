using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The KMS key service's keys, material versions, aliases and grants; deleting a key takes its material with it.</summary>
public abstract partial class MetadataStoreContract
{
    private static KmsKeyRecord KmsKey(string keyId, RegistryKey? registry = null)
    {
        var r = registry ?? Registry;
        return new KmsKeyRecord(
            $"arn:aws:kms:{r.Region}:{r.Account}:key/{keyId}", keyId, r.Account, r.Region, "d", KmsKeyState.Enabled, false, "{}", false, 365, 1, T0, null,
            [new ResourceTag("team", "a")]);
    }

    private static KmsMaterial Material(int version, DateTimeOffset? at = null) => new(version, [9, 8, (byte)version], at ?? T0, false);

    private static KmsAlias AliasOf(string name, string keyArn) => new(Registry.Account, Registry.Region, name, keyArn, T0, T0);

    [Fact]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.CreateKeyAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.GetKeyAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.ListKeysAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.UpdateKeyAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.ListMaterialsAsync))]
    public async Task A_kms_key_reads_back_with_its_sealed_material_and_lists_per_account_and_region()
    {
        await using var store = await CreateStoreAsync();
        var a = KmsKey("11111111-1111-1111-1111-111111111111");
        var b = KmsKey("22222222-2222-2222-2222-222222222222");
        var west = KmsKey("33333333-3333-3333-3333-333333333333", new RegistryKey(Registry.Account, "eu-west-1"));
        Assert.True(await store.Kms.CreateKeyAsync(a, Material(1), AliasOf("alias/a", a.Arn), Ct));
        Assert.True(await store.Kms.CreateKeyAsync(b, Material(1), null, Ct));
        Assert.True(await store.Kms.CreateKeyAsync(west, Material(1), null, Ct));

        // The alias is taken: the key and the alias are made together or not at all.
        var c = KmsKey("44444444-4444-4444-4444-444444444444");
        Assert.False(await store.Kms.CreateKeyAsync(c, Material(1), AliasOf("alias/a", c.Arn), Ct));
        Assert.Null(await store.Kms.GetKeyAsync(c.Arn, Ct));

        var read = await store.Kms.GetKeyAsync(a.Arn, Ct);
        Assert.NotNull(read);
        Assert.Equal((a.KeyId, a.Account, "us-east-1", KmsKeyState.Enabled, false, 365, 1, T0, "team"), (read.KeyId, read.Account, read.Region, read.State, read.AwsManaged, read.RotationPeriodDays, read.CurrentVersion, read.CreatedAt, read.Tags[0].Key));
        Assert.Equal(new byte[] { 9, 8, 1 }, Assert.Single(await store.Kms.ListMaterialsAsync(a.Arn, Ct)).SealedMaterial);

        Assert.Equal([a.KeyId, b.KeyId], (await store.Kms.ListKeysAsync(Registry.Account, Registry.Region, null, 10, Ct)).Select(k => k.KeyId));
        Assert.Equal([b.KeyId], (await store.Kms.ListKeysAsync(Registry.Account, Registry.Region, a.KeyId, 10, Ct)).Select(k => k.KeyId));
        Assert.Single(await store.Kms.ListKeysAsync(Registry.Account, Registry.Region, null, 1, Ct));

        var changed = a with { State = KmsKeyState.PendingDeletion, DeletionDate = T0.AddDays(7), Policy = "{\"x\":1}", RotationEnabled = true, RotationPeriodDays = 90, Description = null, Tags = [] };
        Assert.True(await store.Kms.UpdateKeyAsync(changed, Ct));
        read = (await store.Kms.GetKeyAsync(a.Arn, Ct))!;
        Assert.Equal((KmsKeyState.PendingDeletion, T0.AddDays(7), "{\"x\":1}", true, 90, (string?)null, 0), (read.State, read.DeletionDate, read.Policy, read.RotationEnabled, read.RotationPeriodDays, read.Description, read.Tags.Count));
        Assert.False(await store.Kms.UpdateKeyAsync(c, Ct));
    }

    [Fact]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.RotateAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.ListDueForRotationAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.ListDueForDeletionAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.DeleteKeyAsync))]
    public async Task Kms_rotation_adds_material_versions_and_deletion_takes_the_material_aliases_and_grants()
    {
        await using var store = await CreateStoreAsync();
        var key = KmsKey("11111111-1111-1111-1111-111111111111") with { RotationEnabled = true, RotationPeriodDays = 90 };
        await store.Kms.CreateKeyAsync(key, Material(1), AliasOf("alias/k", key.Arn), Ct);
        Assert.Empty(await store.Kms.ListDueForRotationAsync(T0.AddDays(89), 10, Ct));
        Assert.Equal(key.Arn, Assert.Single(await store.Kms.ListDueForRotationAsync(T0.AddDays(90), 10, Ct)).Arn);

        Assert.True(await store.Kms.RotateAsync(key.Arn, Material(2, T0.AddDays(90)), Ct));
        Assert.False(await store.Kms.RotateAsync(key.Arn + "x", Material(2), Ct));
        Assert.Equal(2, (await store.Kms.GetKeyAsync(key.Arn, Ct))!.CurrentVersion);
        Assert.Equal([1, 2], (await store.Kms.ListMaterialsAsync(key.Arn, Ct)).Select(m => m.Version));
        Assert.Empty(await store.Kms.ListDueForRotationAsync(T0.AddDays(179), 10, Ct));

        await store.Kms.CreateGrantAsync(new KmsGrant("g1", key.Arn, null, "arn:aws:iam::123456789012:user/u", null, "arn:aws:iam::123456789012:root", ["Decrypt"], null, null, "h1", T0), Ct);

        // Not pending deletion: not due, and not deleted.
        Assert.Empty(await store.Kms.ListDueForDeletionAsync(T0.AddDays(400), 10, Ct));
        Assert.False(await store.Kms.DeleteKeyAsync(key.Arn, Ct));

        await store.Kms.UpdateKeyAsync(key with { State = KmsKeyState.PendingDeletion, DeletionDate = T0.AddDays(7), CurrentVersion = 2 }, Ct);
        Assert.Empty(await store.Kms.ListDueForDeletionAsync(T0.AddDays(6), 10, Ct));
        Assert.Equal(key.Arn, Assert.Single(await store.Kms.ListDueForDeletionAsync(T0.AddDays(7), 10, Ct)).Arn);
        Assert.True(await store.Kms.DeleteKeyAsync(key.Arn, Ct));
        Assert.Null(await store.Kms.GetKeyAsync(key.Arn, Ct));
        Assert.Empty(await store.Kms.ListMaterialsAsync(key.Arn, Ct));
        Assert.Null(await store.Kms.GetAliasAsync(Registry.Account, Registry.Region, "alias/k", Ct));
        Assert.Null(await store.Kms.GetGrantByTokenAsync("h1", Ct));
        Assert.False(await store.Kms.DeleteKeyAsync(key.Arn, Ct));
    }

    [Fact]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.CreateAliasAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.GetAliasAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.ListAliasesAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.UpdateAliasAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.DeleteAliasAsync))]
    public async Task A_kms_alias_name_is_taken_once_per_account_and_region_and_moves_between_keys()
    {
        await using var store = await CreateStoreAsync();
        var a = KmsKey("11111111-1111-1111-1111-111111111111");
        var b = KmsKey("22222222-2222-2222-2222-222222222222");
        await store.Kms.CreateKeyAsync(a, Material(1), null, Ct);
        await store.Kms.CreateKeyAsync(b, Material(1), null, Ct);
        Assert.True(await store.Kms.CreateAliasAsync(AliasOf("alias/one", a.Arn), Ct));
        Assert.True(await store.Kms.CreateAliasAsync(AliasOf("alias/two", b.Arn), Ct));
        Assert.False(await store.Kms.CreateAliasAsync(AliasOf("alias/one", b.Arn), Ct));
        Assert.False(await store.Kms.CreateAliasAsync(AliasOf("alias/none", a.Arn + "x"), Ct));

        Assert.Equal(a.Arn, (await store.Kms.GetAliasAsync(Registry.Account, Registry.Region, "alias/one", Ct))!.KeyArn);
        Assert.Null(await store.Kms.GetAliasAsync(Registry.Account, "eu-west-1", "alias/one", Ct));
        Assert.Equal(["alias/one", "alias/two"], (await store.Kms.ListAliasesAsync(Registry.Account, Registry.Region, null, null, 10, Ct)).Select(x => x.Name));
        Assert.Equal(["alias/two"], (await store.Kms.ListAliasesAsync(Registry.Account, Registry.Region, null, "alias/one", 10, Ct)).Select(x => x.Name));
        Assert.Equal(["alias/two"], (await store.Kms.ListAliasesAsync(Registry.Account, Registry.Region, b.Arn, null, 10, Ct)).Select(x => x.Name));

        Assert.True(await store.Kms.UpdateAliasAsync(AliasOf("alias/one", b.Arn) with { UpdatedAt = T0.AddHours(1) }, Ct));
        var moved = (await store.Kms.GetAliasAsync(Registry.Account, Registry.Region, "alias/one", Ct))!;
        Assert.Equal((b.Arn, T0, T0.AddHours(1)), (moved.KeyArn, moved.CreatedAt, moved.UpdatedAt));
        Assert.False(await store.Kms.UpdateAliasAsync(AliasOf("alias/none", b.Arn), Ct));

        Assert.True(await store.Kms.DeleteAliasAsync(Registry.Account, Registry.Region, "alias/one", Ct));
        Assert.False(await store.Kms.DeleteAliasAsync(Registry.Account, Registry.Region, "alias/one", Ct));
    }

    [Fact]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.CreateGrantAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.ListGrantsAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.GetGrantByTokenAsync))]
    [Covers(typeof(IKmsStore), nameof(IKmsStore.DeleteGrantAsync))]
    public async Task A_kms_grant_reads_back_by_key_and_token_hash_with_its_constraints()
    {
        await using var store = await CreateStoreAsync();
        var key = KmsKey("11111111-1111-1111-1111-111111111111");
        await store.Kms.CreateKeyAsync(key, Material(1), null, Ct);
        var grant = new KmsGrant(
            "g1", key.Arn, "ci", "arn:aws:iam::123456789012:user/u", "arn:aws:iam::123456789012:user/r", "arn:aws:iam::123456789012:root",
            ["Decrypt", "GenerateDataKey"], new Dictionary<string, string> { ["repo"] = "team/app" }, null, "hash-1", T0);
        await store.Kms.CreateGrantAsync(grant, Ct);
        await store.Kms.CreateGrantAsync(grant with { GrantId = "g2", Name = null, RetiringPrincipal = null, ContextSubset = null, ContextEquals = new Dictionary<string, string> { ["a"] = "b" }, TokenHash = "hash-2", CreatedAt = T0.AddSeconds(1) }, Ct);

        var listed = await store.Kms.ListGrantsAsync(key.Arn, Ct);
        Assert.Equal(["g1", "g2"], listed.Select(g => g.GrantId));
        Assert.Equal(("ci", "arn:aws:iam::123456789012:user/r", "Decrypt,GenerateDataKey", "team/app"), (listed[0].Name, listed[0].RetiringPrincipal, string.Join(',', listed[0].Operations), listed[0].ContextSubset!["repo"]));
        Assert.Equal("b", listed[1].ContextEquals!["a"]);
        Assert.Null(listed[1].ContextSubset);
        Assert.Equal("g2", (await store.Kms.GetGrantByTokenAsync("hash-2", Ct))!.GrantId);
        Assert.Null(await store.Kms.GetGrantByTokenAsync("hash-3", Ct));

        Assert.True(await store.Kms.DeleteGrantAsync(key.Arn, "g1", Ct));
        Assert.False(await store.Kms.DeleteGrantAsync(key.Arn, "g1", Ct));
        Assert.Equal(["g2"], (await store.Kms.ListGrantsAsync(key.Arn, Ct)).Select(g => g.GrantId));
    }
}
