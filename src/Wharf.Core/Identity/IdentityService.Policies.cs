using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;

namespace Wharf.Core.Identity;

/// <summary>An IAM entity that holds policies: a user, a group or a role.</summary>
public enum PolicyOwner
{
    User,
    Group,
    Role,
}

/// <summary>
/// IAM's read operations on users', groups' and roles' policies (what infrastructure-as-code tools
/// call after every write), listings of groups and roles, customer managed policies with their
/// versions, and tags on users and roles.
/// </summary>
public sealed partial class IdentityService
{
    /// <summary>IAM's limits: versions per managed policy, tags per user or role.</summary>
    public const int MaxPolicyVersions = 5;
    public const int MaxPrincipalTags = 50;

    // AWS managed policies have existed for years; a fixed date keeps their answers stable.
    private static readonly DateTimeOffset AwsManagedCreated = new(2015, 12, 21, 17, 6, 0, TimeSpan.Zero);

    /// <summary>The ARNs of the managed policies attached to the user, group or role.</summary>
    public async Task<IReadOnlyList<string>> ListAttachedPoliciesAsync(Caller caller, PolicyOwner kind, string name, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(caller, kind, $"iam:ListAttached{kind}Policies", name, cancellationToken);
        return (await store.Identities.GetPoliciesAsync(owner, cancellationToken)).Managed;
    }

    /// <summary>The names of the user's, group's or role's inline policies.</summary>
    public async Task<IReadOnlyList<string>> ListInlinePoliciesAsync(Caller caller, PolicyOwner kind, string name, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(caller, kind, $"iam:List{kind}Policies", name, cancellationToken);
        return (await store.Identities.GetPoliciesAsync(owner, cancellationToken)).Inline.Select(p => p.Name).ToList();
    }

    /// <summary>One inline policy's document, as written.</summary>
    public async Task<string> GetInlinePolicyAsync(Caller caller, PolicyOwner kind, string name, string policyName, CancellationToken cancellationToken)
    {
        CheckName(policyName, "policyName", 128);
        var owner = await OwnerAsync(caller, kind, $"iam:Get{kind}Policy", name, cancellationToken);
        return (await store.Identities.GetPoliciesAsync(owner, cancellationToken)).Inline.FirstOrDefault(p => p.Name == policyName).Document
            ?? throw new WharfException(WharfErrorCode.NoSuchEntity, $"The {kind.ToString().ToLowerInvariant()} policy with name {policyName} cannot be found.");
    }

    public async Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(Caller caller, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListGroups", $"arn:aws:iam::{caller.Account}:group/", cancellationToken);
        return await store.Identities.ListGroupsAsync(caller.Account, cancellationToken);
    }

    public async Task<IReadOnlyList<GroupRecord>> ListGroupsForUserAsync(Caller caller, string userName, CancellationToken cancellationToken)
    {
        var user = await UserAsync(caller, "iam:ListGroupsForUser", userName, cancellationToken);
        return await store.Identities.ListGroupsForUserAsync(user.Arn, cancellationToken);
    }

    public async Task<IReadOnlyList<RoleRecord>> ListRolesAsync(Caller caller, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListRoles", $"arn:aws:iam::{caller.Account}:role/", cancellationToken);
        return await store.Identities.ListRolesAsync(caller.Account, cancellationToken);
    }

    /// <summary>Replaces the role's trust policy (validated as a resource policy, as at creation).</summary>
    public async Task UpdateAssumeRolePolicyAsync(Caller caller, string roleName, string document, CancellationToken cancellationToken)
    {
        var role = await RoleAsync(caller, "iam:UpdateAssumeRolePolicy", roleName, cancellationToken);
        Validate(document, isResourcePolicy: true);
        if (!await store.Identities.SetTrustPolicyAsync(role.Principal.Arn, document, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"The role with name {roleName} cannot be found.");
        }
    }

    /// <summary>Creates a customer managed policy; its document is version <c>v1</c>, the default.</summary>
    public async Task<ManagedPolicyRecord> CreatePolicyAsync(Caller caller, string name, string document, string? description, CancellationToken cancellationToken)
    {
        CheckName(name, "policyName", 128);
        var arn = $"arn:aws:iam::{caller.Account}:policy/{name}";
        await authorizer.AuthorizeAsync(caller, "iam:CreatePolicy", arn, cancellationToken);
        Validate(document, isResourcePolicy: false);
        await store.Identities.EnsureAccountAsync(caller.Account, time.GetUtcNow(), cancellationToken);
        var now = time.GetUtcNow();
        return await store.Identities.CreateManagedPolicyAsync(new ManagedPolicyRecord(arn, caller.Account, name, AccessKeys.NewPrincipalId("ANPA"), description, "v1", 0, now, now), document, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.EntityAlreadyExists, $"A policy called {name} already exists. Duplicate names are not allowed.");
    }

    /// <summary>A customer managed policy of the caller's account, or one of the AWS managed ECR policies.</summary>
    public async Task<ManagedPolicyRecord> GetPolicyAsync(Caller caller, string policyArn, CancellationToken cancellationToken)
    {
        CheckPolicyArn(policyArn);
        await authorizer.AuthorizeAsync(caller, "iam:GetPolicy", policyArn, cancellationToken);
        return await FindPolicyAsync(caller, policyArn, cancellationToken) ?? throw NoSuchPolicy(policyArn);
    }

    public async Task<PolicyVersionRecord> GetPolicyVersionAsync(Caller caller, string policyArn, string versionId, CancellationToken cancellationToken)
    {
        CheckPolicyArn(policyArn);
        await authorizer.AuthorizeAsync(caller, "iam:GetPolicyVersion", policyArn, cancellationToken);
        var versions = await VersionsAsync(caller, policyArn, cancellationToken);
        return versions.FirstOrDefault(v => v.VersionId == versionId)
            ?? throw new WharfException(WharfErrorCode.NoSuchEntity, $"Policy {policyArn} version {versionId} does not exist or is not attachable.");
    }

    public async Task<IReadOnlyList<PolicyVersionRecord>> ListPolicyVersionsAsync(Caller caller, string policyArn, CancellationToken cancellationToken)
    {
        CheckPolicyArn(policyArn);
        await authorizer.AuthorizeAsync(caller, "iam:ListPolicyVersions", policyArn, cancellationToken);
        return await VersionsAsync(caller, policyArn, cancellationToken);
    }

    /// <summary>
    /// IAM's <c>ListPolicies</c>: <paramref name="scope"/> <c>All</c>, <c>AWS</c> (the AWS managed ECR
    /// policies) or <c>Local</c> (the account's own), optionally only those attached to something; by name.
    /// </summary>
    public async Task<IReadOnlyList<ManagedPolicyRecord>> ListPoliciesAsync(Caller caller, string scope, bool onlyAttached, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "iam:ListPolicies", $"arn:aws:iam::{caller.Account}:policy/", cancellationToken);
        var all = new List<ManagedPolicyRecord>();
        if (scope is "All" or "AWS")
        {
            foreach (var arn in ManagedPolicies.Arns)
            {
                all.Add(await AwsManagedAsync(caller, arn, cancellationToken));
            }
        }

        if (scope is "All" or "Local")
        {
            all.AddRange(await store.Identities.ListManagedPoliciesAsync(caller.Account, cancellationToken));
        }

        return all.Where(p => !onlyAttached || p.AttachmentCount > 0).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Adds a version (at most <see cref="MaxPolicyVersions"/>), the default when <paramref name="setAsDefault"/>.</summary>
    public async Task<PolicyVersionRecord> CreatePolicyVersionAsync(Caller caller, string policyArn, string document, bool setAsDefault, CancellationToken cancellationToken)
    {
        var policy = await CustomerPolicyAsync(caller, "iam:CreatePolicyVersion", policyArn, cancellationToken);
        Validate(document, isResourcePolicy: false);
        return await store.Identities.AddPolicyVersionAsync(policy.Arn, document, setAsDefault, MaxPolicyVersions, time.GetUtcNow(), cancellationToken)
            ?? throw new WharfException(
                WharfErrorCode.IamLimitExceeded,
                $"A managed policy can have up to {MaxPolicyVersions} versions. Before you create a new version, you must delete an existing version.");
    }

    public async Task SetDefaultPolicyVersionAsync(Caller caller, string policyArn, string versionId, CancellationToken cancellationToken)
    {
        var policy = await CustomerPolicyAsync(caller, "iam:SetDefaultPolicyVersion", policyArn, cancellationToken);
        if (!await store.Identities.SetDefaultPolicyVersionAsync(policy.Arn, versionId, time.GetUtcNow(), cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"Policy {policyArn} version {versionId} does not exist.");
        }
    }

    public async Task DeletePolicyVersionAsync(Caller caller, string policyArn, string versionId, CancellationToken cancellationToken)
    {
        var policy = await CustomerPolicyAsync(caller, "iam:DeletePolicyVersion", policyArn, cancellationToken);
        if (policy.DefaultVersionId == versionId)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete the default version of a policy.");
        }

        if (!await store.Identities.DeletePolicyVersionAsync(policy.Arn, versionId, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.NoSuchEntity, $"Policy {policyArn} version {versionId} does not exist.");
        }
    }

    /// <summary>Deletes a customer managed policy that is attached to nothing and has only its default version (IAM's order).</summary>
    public async Task DeletePolicyAsync(Caller caller, string policyArn, CancellationToken cancellationToken)
    {
        var policy = await CustomerPolicyAsync(caller, "iam:DeletePolicy", policyArn, cancellationToken);
        if (policy.AttachmentCount > 0)
        {
            throw new WharfException(WharfErrorCode.DeleteConflict, "Cannot delete a policy attached to entities.");
        }

        if ((await store.Identities.ListPolicyVersionsAsync(policy.Arn, cancellationToken)).Count > 1)
        {
            throw new WharfException(
                WharfErrorCode.DeleteConflict,
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
        }

        await store.Identities.DeleteManagedPolicyAsync(policy.Arn, cancellationToken);
    }

    public async Task<IReadOnlyList<ResourceTag>> ListTagsAsync(Caller caller, PolicyOwner kind, string name, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(caller, kind, $"iam:List{kind}Tags", name, cancellationToken);
        return await store.Identities.ListPrincipalTagsAsync(owner, cancellationToken);
    }

    /// <summary>Adds or replaces tags of a user or role (at most <see cref="MaxPrincipalTags"/>).</summary>
    public async Task TagAsync(Caller caller, PolicyOwner kind, string name, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(caller, kind, $"iam:Tag{kind}", name, cancellationToken);
        if (tags.GroupBy(t => t.Key, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new WharfException(WharfErrorCode.IamInvalidInput, $"Duplicate tag keys found. Please note that Tag keys are case insensitive: {twice.Key}.");
        }

        if (await store.Identities.TagPrincipalAsync(owner, tags, MaxPrincipalTags, cancellationToken) == false)
        {
            throw new WharfException(WharfErrorCode.IamLimitExceeded, $"The number of tags has reached the maximum limit of {MaxPrincipalTags}.");
        }
    }

    public async Task UntagAsync(Caller caller, PolicyOwner kind, string name, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(caller, kind, $"iam:Untag{kind}", name, cancellationToken);
        await store.Identities.UntagPrincipalAsync(owner, keys, cancellationToken);
    }

    private async Task<string> OwnerAsync(Caller caller, PolicyOwner kind, string action, string name, CancellationToken cancellationToken) => kind switch
    {
        PolicyOwner.User => (await UserAsync(caller, action, name, cancellationToken)).Arn,
        PolicyOwner.Group => (await GroupAsync(caller, action, name, cancellationToken)).Arn,
        _ => (await RoleAsync(caller, action, name, cancellationToken)).Principal.Arn,
    };

    // A managed policy that can be attached to an owner of the caller's account: an AWS managed ECR
    // policy, or a customer managed policy of that account.
    private async Task<bool> AttachableAsync(Caller caller, string policyArn, CancellationToken cancellationToken) =>
        ManagedPolicies.Find(policyArn) is not null
        || (policyArn.StartsWith($"arn:aws:iam::{caller.Account}:policy/", StringComparison.Ordinal)
            && await store.Identities.GetManagedPolicyAsync(policyArn, cancellationToken) is not null);

    private async Task<ManagedPolicyRecord?> FindPolicyAsync(Caller caller, string policyArn, CancellationToken cancellationToken) =>
        ManagedPolicies.Find(policyArn) is not null
            ? await AwsManagedAsync(caller, policyArn, cancellationToken)
            : policyArn.StartsWith($"arn:aws:iam::{caller.Account}:policy/", StringComparison.Ordinal)
                ? await store.Identities.GetManagedPolicyAsync(policyArn, cancellationToken)
                : null;

    private async Task<IReadOnlyList<PolicyVersionRecord>> VersionsAsync(Caller caller, string policyArn, CancellationToken cancellationToken)
    {
        if (ManagedPolicies.Text(policyArn) is { } text)
        {
            return [new PolicyVersionRecord("v1", text, true, AwsManagedCreated)];
        }

        return await FindPolicyAsync(caller, policyArn, cancellationToken) is null
            ? throw NoSuchPolicy(policyArn)
            : await store.Identities.ListPolicyVersionsAsync(policyArn, cancellationToken);
    }

    // A customer managed policy of the caller's account, for the operations that change one.
    private async Task<ManagedPolicyRecord> CustomerPolicyAsync(Caller caller, string action, string policyArn, CancellationToken cancellationToken)
    {
        CheckPolicyArn(policyArn);
        await authorizer.AuthorizeAsync(caller, action, policyArn, cancellationToken);
        if (ManagedPolicies.Find(policyArn) is not null)
        {
            throw new WharfException(WharfErrorCode.IamInvalidInput, $"Policy {policyArn} is an AWS managed policy and cannot be changed.");
        }

        return await FindPolicyAsync(caller, policyArn, cancellationToken) ?? throw NoSuchPolicy(policyArn);
    }

    private async Task<ManagedPolicyRecord> AwsManagedAsync(Caller caller, string arn, CancellationToken cancellationToken)
    {
        var name = arn[(arn.LastIndexOf('/') + 1)..];
        var id = "ANPA" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(arn)))[..17];
        var attached = await store.Identities.CountAttachmentsAsync(arn, caller.Account, cancellationToken);
        return new ManagedPolicyRecord(arn, caller.Account, name, id, null, "v1", attached, AwsManagedCreated, AwsManagedCreated);
    }

    private static void Validate(string document, bool isResourcePolicy)
    {
        try
        {
            PolicyDocument.Parse(document, isResourcePolicy);
        }
        catch (PolicyFormatException e)
        {
            throw new WharfException(WharfErrorCode.MalformedPolicyDocument, e.Message);
        }
    }

    // IAM answers a policy ARN that is not one with InvalidInput, before looking anything up.
    private static void CheckPolicyArn(string policyArn)
    {
        var parts = policyArn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[5].StartsWith("policy/", StringComparison.Ordinal) || parts[5].Length == "policy/".Length)
        {
            throw new WharfException(WharfErrorCode.IamInvalidInput, $"ARN {policyArn} is not valid.");
        }
    }

    private static WharfException NoSuchPolicy(string policyArn) =>
        new(WharfErrorCode.NoSuchEntity, $"Policy {policyArn} does not exist or is not attachable.");
}
