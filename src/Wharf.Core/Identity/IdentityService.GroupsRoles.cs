using System.Globalization;
using System.Text.RegularExpressions;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;

namespace Wharf.Core.Identity;

/// <summary>Temporary credentials from <c>AssumeRole</c>: the session, and its key, secret and token (shown once).</summary>
public sealed record AssumedRole(RoleSession Session, string AccessKeyId, string Secret, string SessionToken);

/// <summary>IAM groups and roles, and STS <c>AssumeRole</c>.</summary>
public sealed partial class IdentityService
{
    /// <summary>STS's bounds on a session: 15 minutes to the role's maximum (at most 12 hours); 1 hour when chained.</summary>
    public const int MinSessionSeconds = 900;
    public const int DefaultSessionSeconds = 3600;
    public const int MaxRoleSessionSeconds = 43_200;

    public async Task<GroupRecord> CreateGroupAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        CheckName(name, "groupName", 128);
        var arn = GroupArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:CreateGroup", arn, cancellationToken);
        await store.Identities.EnsureAccountAsync(caller.Account, time.GetUtcNow(), cancellationToken);
        return await store.Identities.CreateGroupAsync(new GroupRecord(arn, caller.Account, name, AccessKeys.NewPrincipalId("AGPA"), time.GetUtcNow()), cancellationToken)
            ?? throw new WharfException(WharfErrorCode.EntityAlreadyExists, $"Group with name {name} already exists.");
    }

    /// <summary>The group and its users.</summary>
    public async Task<(GroupRecord Group, IReadOnlyList<PrincipalRecord> Users)> GetGroupAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:GetGroup", name, cancellationToken);
        return (group, await store.Identities.ListGroupMembersAsync(group.Arn, cancellationToken));
    }

    /// <summary>Deletes a group that has no users and no policies (IAM's <c>DeleteConflict</c> otherwise).</summary>
    public async Task DeleteGroupAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:DeleteGroup", name, cancellationToken);
        if ((await store.Identities.ListGroupMembersAsync(group.Arn, cancellationToken)).Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must remove users from group first.");
        }

        var (inline, managed) = await store.Identities.GetPoliciesAsync(group.Arn, cancellationToken);
        if (inline.Count > 0 || managed.Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must delete policies first.");
        }

        await store.Identities.DeleteGroupAsync(group.Arn, cancellationToken);
    }

    public async Task AddUserToGroupAsync(Caller caller, string groupName, string userName, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:AddUserToGroup", groupName, cancellationToken);
        CheckName(userName);
        if (!await store.Identities.AddGroupMemberAsync(group.Arn, UserArn(caller, userName), cancellationToken))
        {
            throw NoSuchUser(userName);
        }
    }

    public async Task RemoveUserFromGroupAsync(Caller caller, string groupName, string userName, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:RemoveUserFromGroup", groupName, cancellationToken);
        CheckName(userName);
        if (!await store.Identities.RemoveGroupMemberAsync(group.Arn, UserArn(caller, userName), cancellationToken))
        {
            throw NoSuchUser(userName);
        }
    }

    public async Task PutGroupPolicyAsync(Caller caller, string name, string policyName, string document, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:PutGroupPolicy", name, cancellationToken);
        await PutInlineAsync(group.Arn, policyName, document, cancellationToken);
    }

    public async Task DeleteGroupPolicyAsync(Caller caller, string name, string policyName, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:DeleteGroupPolicy", name, cancellationToken);
        await DeleteInlineAsync(group.Arn, "group", policyName, cancellationToken);
    }

    public async Task AttachGroupPolicyAsync(Caller caller, string name, string policyArn, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:AttachGroupPolicy", name, cancellationToken);
        await AttachAsync(caller, group.Arn, policyArn, cancellationToken);
    }

    public async Task DetachGroupPolicyAsync(Caller caller, string name, string policyArn, CancellationToken cancellationToken)
    {
        var group = await GroupAsync(caller, "iam:DetachGroupPolicy", name, cancellationToken);
        await DetachAsync(group.Arn, policyArn, cancellationToken);
    }

    /// <summary>Creates a role with its trust policy (a resource policy naming who may assume it).</summary>
    public async Task<RoleRecord> CreateRoleAsync(Caller caller, string name, string trustPolicy, int? maxSessionSeconds, CancellationToken cancellationToken)
    {
        CheckName(name, "roleName", 64);
        var max = maxSessionSeconds ?? DefaultSessionSeconds;
        if (max is < DefaultSessionSeconds or > MaxRoleSessionSeconds)
        {
            throw new WharfException(
                WharfErrorCode.IamValidation,
                $"1 validation error detected: Value '{max}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value {(max < DefaultSessionSeconds ? "greater than or equal to 3600" : "less than or equal to 43200")}");
        }

        var arn = RoleArn(caller, name);
        await authorizer.AuthorizeAsync(caller, "iam:CreateRole", arn, cancellationToken);
        try
        {
            PolicyDocument.Parse(trustPolicy, isResourcePolicy: true);
        }
        catch (PolicyFormatException e)
        {
            throw new WharfException(WharfErrorCode.MalformedPolicyDocument, e.Message);
        }

        await store.Identities.EnsureAccountAsync(caller.Account, time.GetUtcNow(), cancellationToken);
        var principal = new PrincipalRecord(arn, caller.Account, "role", name, AccessKeys.NewPrincipalId("AROA"), time.GetUtcNow());
        return await store.Identities.CreateRoleAsync(new RoleRecord(principal, trustPolicy, max), cancellationToken)
            ?? throw new WharfException(WharfErrorCode.EntityAlreadyExists, $"Role with name {name} already exists.");
    }

    public Task<RoleRecord> GetRoleAsync(Caller caller, string name, CancellationToken cancellationToken) =>
        RoleAsync(caller, "iam:GetRole", name, cancellationToken);

    /// <summary>Deletes a role that has no policies; its live sessions lose every permission at once.</summary>
    public async Task DeleteRoleAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var role = await RoleAsync(caller, "iam:DeleteRole", name, cancellationToken);
        var (inline, managed) = await store.Identities.GetPoliciesAsync(role.Principal.Arn, cancellationToken);
        if (inline.Count > 0 || managed.Count > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete entity, must detach all policies first.");
        }

        await store.Identities.DeletePrincipalAsync(role.Principal.Arn, cancellationToken);
    }

    public async Task PutRolePolicyAsync(Caller caller, string name, string policyName, string document, CancellationToken cancellationToken)
    {
        var role = await RoleAsync(caller, "iam:PutRolePolicy", name, cancellationToken);
        await PutInlineAsync(role.Principal.Arn, policyName, document, cancellationToken);
    }

    public async Task DeleteRolePolicyAsync(Caller caller, string name, string policyName, CancellationToken cancellationToken)
    {
        var role = await RoleAsync(caller, "iam:DeleteRolePolicy", name, cancellationToken);
        await DeleteInlineAsync(role.Principal.Arn, "role", policyName, cancellationToken);
    }

    public async Task AttachRolePolicyAsync(Caller caller, string name, string policyArn, CancellationToken cancellationToken)
    {
        var role = await RoleAsync(caller, "iam:AttachRolePolicy", name, cancellationToken);
        await AttachAsync(caller, role.Principal.Arn, policyArn, cancellationToken);
    }

    public async Task DetachRolePolicyAsync(Caller caller, string name, string policyArn, CancellationToken cancellationToken)
    {
        var role = await RoleAsync(caller, "iam:DetachRolePolicy", name, cancellationToken);
        await DetachAsync(role.Principal.Arn, policyArn, cancellationToken);
    }

    /// <summary>
    /// STS <c>AssumeRole</c>: the role's trust policy must allow the caller (and, across accounts or
    /// when it names only the account, the caller's own policies too). An account's root may not
    /// assume roles; a role session may, for at most an hour (role chaining).
    /// </summary>
    public async Task<AssumedRole> AssumeRoleAsync(Caller caller, string roleArn, string sessionName, int? durationSeconds, CancellationToken cancellationToken)
    {
        if (!SessionName().IsMatch(sessionName))
        {
            throw new WharfException(
                WharfErrorCode.IamValidation,
                $"1 validation error detected: Value '{sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64");
        }

        var duration = durationSeconds ?? DefaultSessionSeconds;
        if (duration is < MinSessionSeconds or > MaxRoleSessionSeconds)
        {
            throw new WharfException(
                WharfErrorCode.IamValidation,
                $"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value {(duration < MinSessionSeconds ? "greater than or equal to 900" : "less than or equal to 43200")}");
        }

        if (caller.IsRoot)
        {
            throw new WharfException(WharfErrorCode.Denied, "Roles may not be assumed by root accounts.");
        }

        if (caller.IsRoleSession && duration > DefaultSessionSeconds)
        {
            throw new WharfException(WharfErrorCode.IamValidation, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
        }

        await authorizer.AuthorizeAsync(caller, "sts:AssumeRole", roleArn, cancellationToken);
        var role = await store.Identities.GetRoleAsync(roleArn, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.Denied, $"User: {caller.PrincipalArn} is not authorized to perform: sts:AssumeRole on resource: {roleArn}");
        if (duration > role.MaxSessionSeconds)
        {
            throw new WharfException(WharfErrorCode.IamValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
        }

        var session = new RoleSession(role.Principal.Arn, role.Principal.UniqueId, sessionName, DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds() + duration));
        var (keyId, secret, token) = SessionCredentials.Issue(session, secrets);
        return new AssumedRole(session, keyId, secret, token);
    }

    private async Task AttachAsync(Caller caller, string ownerArn, string policyArn, CancellationToken cancellationToken)
    {
        if (!await AttachableAsync(caller, policyArn, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"Policy {policyArn} does not exist or is not attachable.");
        }

        await store.Identities.AttachManagedPolicyAsync(ownerArn, policyArn, cancellationToken);
    }

    private async Task DetachAsync(string ownerArn, string policyArn, CancellationToken cancellationToken)
    {
        if (!await store.Identities.DetachManagedPolicyAsync(ownerArn, policyArn, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"Policy {policyArn} was not found.");
        }
    }

    // An inline policy of a user, group or role: validated as an identity policy, then stored.
    private async Task PutInlineAsync(string ownerArn, string policyName, string document, CancellationToken cancellationToken)
    {
        try
        {
            PolicyDocument.Parse(document, isResourcePolicy: false);
        }
        catch (PolicyFormatException e)
        {
            throw new WharfException(WharfErrorCode.MalformedPolicyDocument, e.Message);
        }

        await store.Identities.PutInlinePolicyAsync(ownerArn, policyName, document, cancellationToken);
    }

    private async Task DeleteInlineAsync(string ownerArn, string kind, string policyName, CancellationToken cancellationToken)
    {
        if (!await store.Identities.DeleteInlinePolicyAsync(ownerArn, policyName, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"The {kind} policy with name {policyName} cannot be found.");
        }
    }

    private async Task<GroupRecord> GroupAsync(Caller caller, string action, string name, CancellationToken cancellationToken)
    {
        CheckName(name, "groupName", 128);
        var arn = GroupArn(caller, name);
        await authorizer.AuthorizeAsync(caller, action, arn, cancellationToken);
        return await store.Identities.GetGroupAsync(arn, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.NoSuchEntity, $"The group with name {name} cannot be found.");
    }

    private async Task<RoleRecord> RoleAsync(Caller caller, string action, string name, CancellationToken cancellationToken)
    {
        CheckName(name, "roleName", 64);
        var arn = RoleArn(caller, name);
        await authorizer.AuthorizeAsync(caller, action, arn, cancellationToken);
        return await store.Identities.GetRoleAsync(arn, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.NoSuchEntity, $"The role with name {name} cannot be found.");
    }

    private static string GroupArn(Caller caller, string name) => $"arn:aws:iam::{caller.Account}:group/{name}";

    private static string RoleArn(Caller caller, string name) => $"arn:aws:iam::{caller.Account}:role/{name}";

    [GeneratedRegex(@"^[\w+=,.@-]{2,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex SessionName();
}
