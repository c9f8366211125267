using System.Text.RegularExpressions;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;

namespace Wharf.Core.Identity;

/// <summary>A new access key: its record and, once, its secret.</summary>
public sealed record NewAccessKey(AccessKeyRecord Record, string Secret);

/// <summary>
/// IAM's user, access-key and policy operations (the subset Wharf's IAM Query API serves), each
/// authorised as its <c>iam:</c> action on the user's ARN. Errors in IAM's words.
/// </summary>
public sealed partial class IdentityService(IMetadataStore store, IAccessAuthorizer authorizer, SecretBox secrets, TimeProvider time)
{
    /// <summary>IAM's limit of access keys per user.</summary>
    public const int MaxKeysPerUser = 2;

    public async Task<PrincipalRecord> CreateUserAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        await authorizer.AuthorizeAsync(caller, "iam:CreateUser", UserArn(caller, name), cancellationToken);
        await store.Identities.EnsureAccountAsync(caller.Account, time.GetUtcNow(), cancellationToken);
        return await store.Identities.CreateUserAsync(caller.Account, name, AccessKeys.NewPrincipalId(), time.GetUtcNow(), cancellationToken)
            ?? throw new WharfException(WharfErrorCode.EntityAlreadyExists, $"User with name {name} already exists.");
    }

    /// <summary>The named user, or (no name) the caller itself.</summary>
    public async Task<PrincipalRecord> GetUserAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var arn = name is null ? caller.PrincipalArn : UserArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:GetUser", arn, cancellationToken);
        return await store.Identities.GetPrincipalAsync(arn, cancellationToken) ?? throw NoSuchUser(name ?? arn);
    }

    public async Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(Caller caller, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListUsers", $"arn:aws:iam::{caller.Account}:user/", cancellationToken);
        return await store.Identities.ListUsersAsync(caller.Account, cancellationToken);
    }

    /// <summary>
    /// Deletes a user that has no login profile, is in no group and has no access keys, inline policies or attached managed
    /// policies: IAM's <c>DeleteUser</c> requires each removed first and answers <c>DeleteConflict</c>.
    /// </summary>
    public async Task DeleteUserAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var user = await UserAsync(caller, "iam:DeleteUser", name, cancellationToken);
        if (await store.Logins.GetLoginProfileAsync(user.Arn, cancellationToken) is not null)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must delete login profile first.");
        }

        if ((await store.Identities.ListGroupsForUserAsync(user.Arn, cancellationToken)).Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must remove users from group first.");
        }

        if ((await store.Identities.ListAccessKeysAsync(user.Arn, cancellationToken)).Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must delete access keys first.");
        }

        var (inline, managed) = await store.Identities.GetPoliciesAsync(user.Arn, cancellationToken);
        if (inline.Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must delete policies first.");
        }

        if (managed.Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must detach all policies first.");
        }

        await store.Identities.DeletePrincipalAsync(user.Arn, cancellationToken);
    }

    public async Task<NewAccessKey> CreateAccessKeyAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var arn = name is null ? caller.PrincipalArn : UserArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:CreateAccessKey", arn, cancellationToken);
        if (await store.Identities.GetPrincipalAsync(arn, cancellationToken) is null)
        {
            throw NoSuchUser(name ?? arn);
        }

        if ((await store.Identities.ListAccessKeysAsync(arn, cancellationToken)).Count >= MaxKeysPerUser)
        {
            throw new WharfException(WharfErrorCode.IamLimitExceeded, $"Cannot exceed quota for AccessKeysPerUser: {MaxKeysPerUser}");
        }

        var (record, secret) = AccessKeys.Issue(arn, secrets, time.GetUtcNow());
        return await store.Identities.CreateAccessKeyAsync(record, cancellationToken) ? new NewAccessKey(record, secret) : throw NoSuchUser(name ?? arn);
    }

    public async Task<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var arn = name is null ? caller.PrincipalArn : UserArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:ListAccessKeys", arn, cancellationToken);
        return await store.Identities.GetPrincipalAsync(arn, cancellationToken) is null
            ? throw NoSuchUser(name ?? arn)
            : await store.Identities.ListAccessKeysAsync(arn, cancellationToken);
    }

    public async Task DeleteAccessKeyAsync(Caller caller, string? name, string keyId, CancellationToken cancellationToken)
    {
        var arn = name is null ? caller.PrincipalArn : UserArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:DeleteAccessKey", arn, cancellationToken);
        var key = await store.Identities.GetAccessKeyAsync(keyId, cancellationToken);
        if (key is null || key.PrincipalArn != arn || !await store.Identities.DeleteAccessKeyAsync(keyId, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"The Access Key with id {keyId} cannot be found.");
        }
    }

    /// <summary>Activates or deactivates a key; an inactive key authenticates nothing.</summary>
    public async Task UpdateAccessKeyAsync(Caller caller, string? name, string keyId, bool active, CancellationToken cancellationToken)
    {
        var arn = name is null ? caller.PrincipalArn : UserArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:UpdateAccessKey", arn, cancellationToken);
        var key = await store.Identities.GetAccessKeyAsync(keyId, cancellationToken);
        if (key is null || key.PrincipalArn != arn || !await store.Identities.SetAccessKeyActiveAsync(keyId, active, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"The Access Key with id {keyId} cannot be found.");
        }
    }

    public async Task PutUserPolicyAsync(Caller caller, string name, string policyName, string document, CancellationToken cancellationToken)
    {
        var user = await UserAsync(caller, "iam:PutUserPolicy", name, cancellationToken);
        await PutInlineAsync(user.Arn, policyName, document, cancellationToken);
    }

    public async Task DeleteUserPolicyAsync(Caller caller, string name, string policyName, CancellationToken cancellationToken)
    {
        var user = await UserAsync(caller, "iam:DeleteUserPolicy", name, cancellationToken);
        await DeleteInlineAsync(user.Arn, "user", policyName, cancellationToken);
    }

    public async Task AttachUserPolicyAsync(Caller caller, string name, string policyArn, CancellationToken cancellationToken)
    {
        var user = await UserAsync(caller, "iam:AttachUserPolicy", name, cancellationToken);
        await AttachAsync(caller, user.Arn, policyArn, cancellationToken);
    }

    public async Task DetachUserPolicyAsync(Caller caller, string name, string policyArn, CancellationToken cancellationToken)
    {
        var user = await UserAsync(caller, "iam:DetachUserPolicy", name, cancellationToken);
        await DetachAsync(user.Arn, policyArn, cancellationToken);
    }

    /// <summary>
    /// The caller's own identity (STS <c>GetCallerIdentity</c>, which needs no permission): ARN, user
    /// id (<c>AROA…:session</c> for a role session) and account.
    /// </summary>
    public async Task<(string Arn, string UserId, string Account)> WhoAmIAsync(Caller caller, CancellationToken cancellationToken)
    {
        if (caller.IsRoleSession)
        {
            var role = await store.Identities.GetPrincipalAsync(caller.IdentityArn, cancellationToken);
            return (caller.PrincipalArn, caller.UserId ?? $"{role?.UniqueId}:{caller.PrincipalArn.Split('/')[^1]}", caller.Account.Value);
        }

        var principal = await store.Identities.GetPrincipalAsync(caller.PrincipalArn, cancellationToken);
        return (caller.PrincipalArn, principal?.UniqueId ?? caller.Account.Value, caller.Account.Value);
    }

    private async Task<PrincipalRecord> UserAsync(Caller caller, string action, string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        var arn = UserArn(caller, name);
        await authorizer.AuthorizeAsync(caller, action, arn, cancellationToken);
        return await store.Identities.GetPrincipalAsync(arn, cancellationToken) ?? throw NoSuchUser(name);
    }

    private static string UserArn(Caller caller, string name) => $"arn:aws:iam::{caller.Account}:user/{name}";

    private static WharfException NoSuchUser(string name) => new(WharfErrorCode.NoSuchEntity, $"The user with name {name} cannot be found.");

    private static void CheckName(string name, string member = "userName", int maxLength = 64)
    {
        if (!EntityName().IsMatch(name) || name.Length > maxLength)
        {
            throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and {maxLength}");
        }
    }

    [GeneratedRegex(@"^[\w+=,.@-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex EntityName();
}
