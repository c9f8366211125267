using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The authorization generation (migration 0024): every write that can change an authorization decision changes it,
/// in its own transaction, whoever makes it; the data plane's own writes and every read leave it alone. IAM mode's
/// caches are valid only while it is unchanged (docs/identity.md "Caches and their bounds").
/// </summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IIdentityStore), nameof(IIdentityStore.GetAuthorizationGenerationAsync))]
    public async Task Every_write_that_can_change_an_authorization_decision_changes_the_authorization_generation()
    {
        await using var store = await CreateStoreAsync();
        var ids = store.Identities;
        var seen = await ids.GetAuthorizationGenerationAsync(Ct);
        var failures = new List<string>();
        async Task Changes(string what, Func<Task> write)
        {
            await write();
            var now = await ids.GetAuthorizationGenerationAsync(Ct);
            if (now == seen)
            {
                failures.Add(what);
            }

            seen = now;
        }

        await Changes("EnsureAccount", () => ids.EnsureAccountAsync(Account, T0, Ct));
        var user = (await ids.CreateUserAsync(Account, "gen-user", "AIDAGENUSER", T0, Ct))!;
        seen = await ids.GetAuthorizationGenerationAsync(Ct);
        await Changes("CreateUser", () => ids.CreateUserAsync(Account, "gen-user-2", "AIDAGENUSER2", T0, Ct));
        await Changes("CreateAccessKey", () => ids.CreateAccessKeyAsync(new AccessKeyRecord("AKIAGEN", user.Arn, [1, 2, 3], true, T0), Ct));
        await Changes("SetAccessKeyActive", () => ids.SetAccessKeyActiveAsync("AKIAGEN", false, Ct));
        await Changes("DeleteAccessKey", () => ids.DeleteAccessKeyAsync("AKIAGEN", Ct));
        await Changes("PutInlinePolicy", () => ids.PutInlinePolicyAsync(user.Arn, "p", "{\"a\":1}", Ct));
        await Changes("PutInlinePolicy (replace)", () => ids.PutInlinePolicyAsync(user.Arn, "p", "{\"a\":2}", Ct));
        await Changes("DeleteInlinePolicy", () => ids.DeleteInlinePolicyAsync(user.Arn, "p", Ct));
        await Changes("AttachManagedPolicy", () => ids.AttachManagedPolicyAsync(user.Arn, "arn:aws:iam::aws:policy/X", Ct));
        await Changes("DetachManagedPolicy", () => ids.DetachManagedPolicyAsync(user.Arn, "arn:aws:iam::aws:policy/X", Ct));
        var group = new GroupRecord($"arn:aws:iam::{Account}:group/gen", Account, "gen", "AGPAGEN", T0);
        await Changes("CreateGroup", () => ids.CreateGroupAsync(group, Ct));
        await Changes("AddGroupMember", () => ids.AddGroupMemberAsync(group.Arn, user.Arn, Ct));
        await Changes("PutInlinePolicy (group)", () => ids.PutInlinePolicyAsync(group.Arn, "g", "{\"g\":1}", Ct));
        await Changes("AttachManagedPolicy (group)", () => ids.AttachManagedPolicyAsync(group.Arn, "arn:aws:iam::aws:policy/G", Ct));
        await Changes("RemoveGroupMember", () => ids.RemoveGroupMemberAsync(group.Arn, user.Arn, Ct));
        await Changes("DeleteGroup", () => ids.DeleteGroupAsync(group.Arn, Ct));
        var role = new RoleRecord(new PrincipalRecord($"arn:aws:iam::{Account}:role/gen", Account, "role", "gen", "AROAGEN", T0), "{\"t\":1}", 3600);
        await Changes("CreateRole", () => ids.CreateRoleAsync(role, Ct));
        await Changes("SetTrustPolicy", () => ids.SetTrustPolicyAsync(role.Principal.Arn, "{\"t\":2}", Ct));
        var policyArn = $"arn:aws:iam::{Account}:policy/gen";
        await Changes("CreateManagedPolicy", () => ids.CreateManagedPolicyAsync(new ManagedPolicyRecord(policyArn, Account, "gen", "ANPAGEN", null, "v1", 0, T0, T0), "{\"v\":1}", Ct));
        await Changes("AddPolicyVersion", () => ids.AddPolicyVersionAsync(policyArn, "{\"v\":2}", setAsDefault: false, maxVersions: 5, T0, Ct));
        await Changes("SetDefaultPolicyVersion", () => ids.SetDefaultPolicyVersionAsync(policyArn, "v2", T0, Ct));
        await Changes("DeletePolicyVersion", () => ids.DeletePolicyVersionAsync(policyArn, "v1", Ct));
        await Changes("DeleteManagedPolicy", () => ids.DeleteManagedPolicyAsync(policyArn, Ct));
        await Changes("TagPrincipal", () => ids.TagPrincipalAsync(user.Arn, [new ResourceTag("k", "v")], 50, Ct));
        await Changes("UntagPrincipal", () => ids.UntagPrincipalAsync(user.Arn, ["k"], Ct));
        await Changes("DeletePrincipal", () => ids.DeletePrincipalAsync(user.Arn, Ct));

        var repos = store.Repositories;
        Repository repo = null!;
        await Changes("CreateRepository", async () => repo = (await repos.CreateAsync(RepoKey("gen/app"), T0, Ct))!);
        await Changes("SetPolicy", () => repos.SetPolicyAsync(repo.Id, "{\"r\":1}", Ct));
        await Changes("SetPolicy (remove)", () => repos.SetPolicyAsync(repo.Id, null, Ct));
        await Changes("TagRepository", () => repos.TagAsync(repo.Id, [new ResourceTag("team", "blue")], 50, Ct));
        await Changes("UntagRepository", () => repos.UntagAsync(repo.Id, ["team"], Ct));
        await Changes("SetRegistryPolicy", () => repos.SetRegistryPolicyAsync(Registry, "{\"g\":1}", Ct));
        await Changes("SetRegistrySetting", () => repos.SetRegistrySettingAsync(Registry, "REGISTRY_POLICY_SCOPE", "V1", Ct));
        await Changes("SetRegistryPolicy (remove)", () => repos.SetRegistryPolicyAsync(Registry, null, Ct));
        await Changes("CreateServerKey", () => store.Keys.GetOrCreateAsync("auth/gen", [1, 2, 3], T0, Ct));
        await Changes("DeleteServerKey", () => store.Keys.DeleteAsync("auth/gen", Ct));

        // The data plane's writes (a push) and a repeated create that creates nothing leave it alone.
        var unchanged = await ids.GetAuthorizationGenerationAsync(Ct);
        var blob = await UploadBlobAsync(store, repo.Id, "gen");
        await PutAsync(store, Image(repo.Id, "gen", [blob], tag: "v1"));
        Assert.NotNull(await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct));
        Assert.False(await ids.EnsureAccountAsync(Account, T0, Ct));
        Assert.Null(await repos.CreateAsync(RepoKey("gen/app"), T0, Ct));
        Assert.Equal(unchanged, await ids.GetAuthorizationGenerationAsync(Ct));

        await Changes("DeleteRepository", () => repos.DeleteAsync(repo.Id, Ct));
        Assert.True(failures.Count == 0, "These writes did not change the authorization generation: " + string.Join(", ", failures));
    }

    [Fact]
    [Covers(typeof(IIdentityStore), nameof(IIdentityStore.GetRecentAuthorizationGenerationAsync))]
    public async Task A_recent_generation_shows_this_stores_writes_on_the_next_call_and_another_stores_once_its_reading_is_older_than_asked()
    {
        await using var store = await CreateStoreAsync();
        await using var other = await OpenAgainAsync();
        var ids = store.Identities;
        var hour = TimeSpan.FromHours(1);
        var first = await ids.GetRecentAuthorizationGenerationAsync(hour, Ct);
        Assert.Equal(await ids.GetAuthorizationGenerationAsync(Ct), first);

        // A write through this store (this process): the next call reads again, however young its reading.
        Assert.True(await ids.EnsureAccountAsync(Account, T0, Ct));
        var mine = await ids.GetRecentAuthorizationGenerationAsync(hour, Ct);
        Assert.NotEqual(first, mine);
        Assert.Equal(await ids.GetAuthorizationGenerationAsync(Ct), mine);

        // A write through another store on the same database (another process or node): the reading is reused while
        // it is younger than the age asked for, and read again once it is older.
        Assert.NotNull(await other.Identities.CreateUserAsync(Account, "recent", "AIDARECENT", T0, Ct));
        var theirs = await ids.GetAuthorizationGenerationAsync(Ct);
        Assert.NotEqual(mine, theirs);
        Assert.Equal(mine, await ids.GetRecentAuthorizationGenerationAsync(hour, Ct));
        var age = TimeSpan.FromMilliseconds(50);
        await Task.Delay(age * 2, Ct);
        Assert.Equal(theirs, await ids.GetRecentAuthorizationGenerationAsync(age, Ct));

        // Any write call of this store, even one that commits nothing, makes the next call read again: so it also
        // sees what another store wrote meanwhile.
        Assert.Equal(theirs, await ids.GetRecentAuthorizationGenerationAsync(hour, Ct));
        Assert.False(await ids.CreateAccessKeyAsync(new AccessKeyRecord("AKIARECENT", $"arn:aws:iam::{Account}:user/nobody", [1], true, T0), Ct));
        Assert.NotNull(await other.Identities.CreateUserAsync(Account, "recent-2", "AIDARECENT2", T0, Ct));
        var later = await ids.GetAuthorizationGenerationAsync(Ct);
        Assert.NotEqual(theirs, later);
        Assert.Equal(later, await ids.GetRecentAuthorizationGenerationAsync(hour, Ct));
    }

    [Fact]
    public async Task A_write_that_fails_its_transaction_leaves_the_authorization_generation_alone()
    {
        await using var store = await CreateStoreAsync();
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        var before = await store.Identities.GetAuthorizationGenerationAsync(Ct);

        // A key for a principal that does not exist is refused, and nothing it did is committed.
        Assert.False(await store.Identities.CreateAccessKeyAsync(new AccessKeyRecord("AKIANONE", $"arn:aws:iam::{Account}:user/nobody", [1], true, T0), Ct));
        Assert.False(await store.Identities.PutInlinePolicyAsync($"arn:aws:iam::{Account}:user/nobody", "p", "{}", Ct));
        Assert.Equal(before, await store.Identities.GetAuthorizationGenerationAsync(Ct));
    }
}
