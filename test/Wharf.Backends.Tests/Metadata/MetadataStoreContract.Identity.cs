using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>What IAM needs of every backend: roles with trust policies, groups with members and policies, and a user's effective policies.</summary>
public abstract partial class MetadataStoreContract
{
    private static readonly AccountId Account = AccountId.Parse("123456789012");

    [Fact]
    public async Task Roles_keep_their_trust_policy_and_are_not_users()
    {
        await using var store = await CreateStoreAsync();
        var arn = $"arn:aws:iam::{Account}:role/deployer";
        var role = new RoleRecord(new PrincipalRecord(arn, Account, "role", "deployer", "AROAEXAMPLE", T0), """{"Statement":[]}""", 7200);
        Assert.Null(await store.Identities.CreateRoleAsync(role, Ct)); // no account yet
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        Assert.Equal(role, await store.Identities.CreateRoleAsync(role, Ct));
        Assert.Null(await store.Identities.CreateRoleAsync(role, Ct));
        Assert.Equal(role, await store.Identities.GetRoleAsync(arn, Ct));
        Assert.Equal("role", (await store.Identities.GetPrincipalAsync(arn, Ct))!.Kind);
        Assert.Empty(await store.Identities.ListUsersAsync(Account, Ct));
        Assert.Null(await store.Identities.GetRoleAsync($"arn:aws:iam::{Account}:root", Ct));

        Assert.True(await store.Identities.PutInlinePolicyAsync(arn, "p", "{\"doc\":1}", Ct));
        Assert.True(await store.Identities.AttachManagedPolicyAsync(arn, "arn:aws:iam::aws:policy/X", Ct));
        var policies = await store.Identities.GetIdentityPoliciesAsync(arn, Ct);
        Assert.Equal(["{\"doc\":1}"], policies.Inline);
        Assert.Equal(["arn:aws:iam::aws:policy/X"], policies.Managed);
        Assert.True(await store.Identities.DeletePrincipalAsync(arn, Ct));
        Assert.Null(await store.Identities.GetRoleAsync(arn, Ct));
        Assert.Empty((await store.Identities.GetIdentityPoliciesAsync(arn, Ct)).Inline);
    }

    [Fact]
    public async Task A_users_effective_policies_are_its_own_and_its_groups_while_a_member()
    {
        await using var store = await CreateStoreAsync();
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        var user = (await store.Identities.CreateUserAsync(Account, "alice", "AIDAALICE", T0, Ct))!;
        var group = new GroupRecord($"arn:aws:iam::{Account}:group/devs", Account, "devs", "AGPADEVS", T0);
        Assert.Equal(group, await store.Identities.CreateGroupAsync(group, Ct));
        Assert.Null(await store.Identities.CreateGroupAsync(group, Ct));
        Assert.Equal(group, await store.Identities.GetGroupAsync(group.Arn, Ct));

        Assert.True(await store.Identities.PutInlinePolicyAsync(user.Arn, "own", "{\"own\":1}", Ct));
        Assert.True(await store.Identities.PutInlinePolicyAsync(group.Arn, "shared", "{\"group\":1}", Ct));
        Assert.True(await store.Identities.AttachManagedPolicyAsync(group.Arn, "arn:aws:iam::aws:policy/G", Ct));
        Assert.True(await store.Identities.AttachManagedPolicyAsync(user.Arn, "arn:aws:iam::aws:policy/G", Ct));
        Assert.False(await store.Identities.PutInlinePolicyAsync($"arn:aws:iam::{Account}:group/none", "p", "{}", Ct));

        // The group's own policies are its, not the user's, until the user joins.
        var (groupInline, groupManaged) = await store.Identities.GetPoliciesAsync(group.Arn, Ct);
        Assert.Equal([("shared", "{\"group\":1}")], groupInline);
        Assert.Equal(["arn:aws:iam::aws:policy/G"], groupManaged);
        Assert.Equal(["{\"own\":1}"], (await store.Identities.GetIdentityPoliciesAsync(user.Arn, Ct)).Inline);

        Assert.True(await store.Identities.AddGroupMemberAsync(group.Arn, user.Arn, Ct));
        Assert.True(await store.Identities.AddGroupMemberAsync(group.Arn, user.Arn, Ct)); // idempotent
        Assert.False(await store.Identities.AddGroupMemberAsync(group.Arn, $"arn:aws:iam::{Account}:user/nobody", Ct));
        Assert.False(await store.Identities.AddGroupMemberAsync($"arn:aws:iam::{Account}:group/none", user.Arn, Ct));
        Assert.Equal([user.Arn], (await store.Identities.ListGroupMembersAsync(group.Arn, Ct)).Select(p => p.Arn));
        var effective = await store.Identities.GetIdentityPoliciesAsync(user.Arn, Ct);
        Assert.Equal(["{\"group\":1}", "{\"own\":1}"], effective.Inline.Order(StringComparer.Ordinal));
        Assert.Equal(["arn:aws:iam::aws:policy/G"], effective.Managed); // attached twice, counted once

        Assert.True(await store.Identities.RemoveGroupMemberAsync(group.Arn, user.Arn, Ct));
        Assert.False(await store.Identities.RemoveGroupMemberAsync(group.Arn, user.Arn, Ct));
        Assert.Equal(["{\"own\":1}"], (await store.Identities.GetIdentityPoliciesAsync(user.Arn, Ct)).Inline);

        // Deleting the group takes its policies and memberships with it.
        Assert.True(await store.Identities.AddGroupMemberAsync(group.Arn, user.Arn, Ct));
        Assert.True(await store.Identities.DeleteGroupAsync(group.Arn, Ct));
        Assert.False(await store.Identities.DeleteGroupAsync(group.Arn, Ct));
        Assert.Equal(["{\"own\":1}"], (await store.Identities.GetIdentityPoliciesAsync(user.Arn, Ct)).Inline);
        Assert.True(await store.Identities.DeleteInlinePolicyAsync(user.Arn, "own", Ct));
        Assert.True(await store.Identities.DetachManagedPolicyAsync(user.Arn, "arn:aws:iam::aws:policy/G", Ct));
        Assert.Empty((await store.Identities.GetIdentityPoliciesAsync(user.Arn, Ct)).Managed);
    }

    [Fact]
    public async Task Groups_roles_and_a_users_groups_are_listed_by_name_and_a_trust_policy_can_be_replaced()
    {
        await using var store = await CreateStoreAsync();
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        var other = AccountId.Parse("222222222222");
        await store.Identities.EnsureAccountAsync(other, T0, Ct);
        var user = (await store.Identities.CreateUserAsync(Account, "alice", "AIDAALICE", T0, Ct))!;
        foreach (var (account, name) in new[] { (Account, "ops"), (Account, "devs"), (other, "devs") })
        {
            await store.Identities.CreateGroupAsync(new GroupRecord($"arn:aws:iam::{account}:group/{name}", account, name, $"AGPA{account}{name}", T0), Ct);
        }

        Assert.Equal(["devs", "ops"], (await store.Identities.ListGroupsAsync(Account, Ct)).Select(g => g.Name));
        Assert.Empty(await store.Identities.ListGroupsForUserAsync(user.Arn, Ct));
        await store.Identities.AddGroupMemberAsync($"arn:aws:iam::{Account}:group/ops", user.Arn, Ct);
        await store.Identities.AddGroupMemberAsync($"arn:aws:iam::{Account}:group/devs", user.Arn, Ct);
        Assert.Equal(["devs", "ops"], (await store.Identities.ListGroupsForUserAsync(user.Arn, Ct)).Select(g => g.Name));

        var b = new RoleRecord(new PrincipalRecord($"arn:aws:iam::{Account}:role/b", Account, "role", "b", "AROAB", T0), "{\"t\":1}", 3600);
        var a = new RoleRecord(new PrincipalRecord($"arn:aws:iam::{Account}:role/a", Account, "role", "a", "AROAA", T0), "{\"t\":2}", 7200);
        await store.Identities.CreateRoleAsync(b, Ct);
        await store.Identities.CreateRoleAsync(a, Ct);
        Assert.Equal([a, b], await store.Identities.ListRolesAsync(Account, Ct));
        Assert.Empty(await store.Identities.ListRolesAsync(other, Ct));
        Assert.True(await store.Identities.SetTrustPolicyAsync(a.Principal.Arn, "{\"t\":3}", Ct));
        Assert.Equal("{\"t\":3}", (await store.Identities.GetRoleAsync(a.Principal.Arn, Ct))!.TrustPolicy);
        Assert.False(await store.Identities.SetTrustPolicyAsync(user.Arn, "{}", Ct)); // a user has no trust policy
        Assert.False(await store.Identities.SetTrustPolicyAsync($"arn:aws:iam::{Account}:role/none", "{}", Ct));
    }

    [Fact]
    public async Task Customer_managed_policies_keep_numbered_versions_a_default_and_their_attachment_count()
    {
        await using var store = await CreateStoreAsync();
        var arn = $"arn:aws:iam::{Account}:policy/pull";
        var record = new ManagedPolicyRecord(arn, Account, "pull", "ANPAPULL", "pulls", "v1", 0, T0, T0);
        Assert.Null(await store.Identities.CreateManagedPolicyAsync(record, "{\"v\":1}", Ct)); // no account yet
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        Assert.Equal(record, await store.Identities.CreateManagedPolicyAsync(record, "{\"v\":1}", Ct));
        Assert.Null(await store.Identities.CreateManagedPolicyAsync(record, "{}", Ct));
        Assert.Equal(record, await store.Identities.GetManagedPolicyAsync(arn, Ct));
        Assert.Equal([record], await store.Identities.ListManagedPoliciesAsync(Account, Ct));

        // v2 not default, v3 default; the limit counts versions, numbers are never reused.
        Assert.Equal(new PolicyVersionRecord("v2", "{\"v\":2}", false, T0.AddHours(1)), await store.Identities.AddPolicyVersionAsync(arn, "{\"v\":2}", false, 3, T0.AddHours(1), Ct));
        Assert.Equal(["{\"v\":1}"], await store.Identities.GetManagedPolicyDocumentsAsync([arn, $"arn:aws:iam::{Account}:policy/none"], Ct));
        Assert.NotNull(await store.Identities.AddPolicyVersionAsync(arn, "{\"v\":3}", true, 3, T0.AddHours(2), Ct));
        Assert.Null(await store.Identities.AddPolicyVersionAsync(arn, "{\"v\":4}", true, 3, T0.AddHours(3), Ct)); // full
        Assert.Null(await store.Identities.AddPolicyVersionAsync($"arn:aws:iam::{Account}:policy/none", "{}", true, 3, T0, Ct));
        Assert.Equal(["{\"v\":3}"], await store.Identities.GetManagedPolicyDocumentsAsync([arn], Ct));
        var current = (await store.Identities.GetManagedPolicyAsync(arn, Ct))!;
        Assert.Equal(("v3", T0.AddHours(2)), (current.DefaultVersionId, current.UpdatedAt));
        Assert.Equal([("v3", true), ("v2", false), ("v1", false)], (await store.Identities.ListPolicyVersionsAsync(arn, Ct)).Select(v => (v.VersionId, v.IsDefault)));

        Assert.False(await store.Identities.DeletePolicyVersionAsync(arn, "v3", Ct)); // the default stays
        Assert.True(await store.Identities.DeletePolicyVersionAsync(arn, "v2", Ct));
        Assert.False(await store.Identities.DeletePolicyVersionAsync(arn, "v2", Ct));
        Assert.Equal("v4", (await store.Identities.AddPolicyVersionAsync(arn, "{\"v\":4}", false, 3, T0.AddHours(3), Ct))!.VersionId);
        Assert.True(await store.Identities.SetDefaultPolicyVersionAsync(arn, "v1", T0.AddHours(4), Ct));
        Assert.False(await store.Identities.SetDefaultPolicyVersionAsync(arn, "v2", T0.AddHours(4), Ct));
        Assert.False(await store.Identities.SetDefaultPolicyVersionAsync(arn, "x", T0.AddHours(4), Ct));
        Assert.Equal(["{\"v\":1}"], await store.Identities.GetManagedPolicyDocumentsAsync([arn], Ct));

        // Attachments are counted per account, users, roles and groups alike.
        var user = (await store.Identities.CreateUserAsync(Account, "alice", "AIDAALICE", T0, Ct))!;
        var group = new GroupRecord($"arn:aws:iam::{Account}:group/devs", Account, "devs", "AGPADEVS", T0);
        await store.Identities.CreateGroupAsync(group, Ct);
        await store.Identities.AttachManagedPolicyAsync(user.Arn, arn, Ct);
        await store.Identities.AttachManagedPolicyAsync(group.Arn, arn, Ct);
        Assert.Equal(2, (await store.Identities.GetManagedPolicyAsync(arn, Ct))!.AttachmentCount);
        Assert.Equal(2, await store.Identities.CountAttachmentsAsync(arn, Account, Ct));
        Assert.Equal(0, await store.Identities.CountAttachmentsAsync(arn, AccountId.Parse("222222222222"), Ct));

        Assert.True(await store.Identities.DeleteManagedPolicyAsync(arn, Ct));
        Assert.False(await store.Identities.DeleteManagedPolicyAsync(arn, Ct));
        Assert.Null(await store.Identities.GetManagedPolicyAsync(arn, Ct));
        Assert.Empty(await store.Identities.ListPolicyVersionsAsync(arn, Ct));
        Assert.Empty(await store.Identities.GetManagedPolicyDocumentsAsync([arn], Ct));
    }

    [Fact]
    public async Task Principal_tags_are_set_replaced_limited_and_removed()
    {
        await using var store = await CreateStoreAsync();
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        var user = (await store.Identities.CreateUserAsync(Account, "alice", "AIDAALICE", T0, Ct))!;
        Assert.Null(await store.Identities.TagPrincipalAsync($"arn:aws:iam::{Account}:user/none", [new ResourceTag("k", "v")], 2, Ct));
        Assert.True(await store.Identities.TagPrincipalAsync(user.Arn, [new ResourceTag("team", "a"), new ResourceTag("env", "dev")], 2, Ct));
        Assert.True(await store.Identities.TagPrincipalAsync(user.Arn, [new ResourceTag("team", "b")], 2, Ct)); // replaces, still 2
        Assert.False(await store.Identities.TagPrincipalAsync(user.Arn, [new ResourceTag("third", "x")], 2, Ct));
        Assert.Equal([new ResourceTag("env", "dev"), new ResourceTag("team", "b")], await store.Identities.ListPrincipalTagsAsync(user.Arn, Ct));
        await store.Identities.UntagPrincipalAsync(user.Arn, ["env", "missing"], Ct);
        Assert.Equal([new ResourceTag("team", "b")], await store.Identities.ListPrincipalTagsAsync(user.Arn, Ct));
        Assert.True(await store.Identities.DeletePrincipalAsync(user.Arn, Ct));
        Assert.Empty(await store.Identities.ListPrincipalTagsAsync(user.Arn, Ct));
    }
}
