using Wharf.Core.Metadata;
using Wharf.Core.Security;

namespace Wharf.Core.Identity;

/// <summary>
/// Pages of the account's users, groups, roles and customer managed policies, by name after a cursor,
/// each authorised as IAM's list action: the console shows an account with thousands of each a page at a time.
/// </summary>
public sealed partial class IdentityService
{
    /// <summary>The largest page these return.</summary>
    public const int MaxPageSize = 1000;

    public async Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(Caller caller, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListUsers", $"arn:aws:iam::{caller.Account}:user/", cancellationToken);
        return await store.Identities.ListUsersAsync(caller.Account, after, PageSize(limit), cancellationToken);
    }

    public async Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(Caller caller, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListGroups", $"arn:aws:iam::{caller.Account}:group/", cancellationToken);
        return await store.Identities.ListGroupsAsync(caller.Account, after, PageSize(limit), cancellationToken);
    }

    public async Task<IReadOnlyList<RoleRecord>> ListRolesAsync(Caller caller, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListRoles", $"arn:aws:iam::{caller.Account}:role/", cancellationToken);
        return await store.Identities.ListRolesAsync(caller.Account, after, PageSize(limit), cancellationToken);
    }

    /// <summary>A page of the account's customer managed policies (IAM's <c>ListPolicies</c> with scope <c>Local</c>).</summary>
    public async Task<IReadOnlyList<ManagedPolicyRecord>> ListCustomerPoliciesAsync(Caller caller, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListPolicies", $"arn:aws:iam::{caller.Account}:policy/", cancellationToken);
        return await store.Identities.ListManagedPoliciesAsync(caller.Account, after, PageSize(limit), cancellationToken);
    }

    private static int PageSize(int limit) => Math.Clamp(limit, 1, MaxPageSize);
}
