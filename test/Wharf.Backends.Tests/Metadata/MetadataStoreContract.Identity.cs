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
}
