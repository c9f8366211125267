using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;

namespace Wharf.Core.Identity;

/// <summary>
/// The operator's writes, for <c>wharf admin</c> and the first start: no caller and no policy decides
/// (whoever runs them holds the metadata store), and none of the IAM API's quotas applies, so a lost
/// root key can always be replaced. Expected refusals come back as null or false for the command to
/// word; timestamps come from the service's <see cref="TimeProvider"/>, as the API's do.
/// </summary>
public sealed partial class IdentityService
{
    /// <summary>Creates the account with its root principal; false when it already exists.</summary>
    public Task<bool> CreateAccountAsync(AccountId account, CancellationToken cancellationToken) =>
        store.Identities.EnsureAccountAsync(account, time.GetUtcNow(), cancellationToken);

    /// <summary>Creates the user (and its account when needed); null when the user already exists.</summary>
    public async Task<PrincipalRecord?> CreateUserAsync(AccountId account, string name, CancellationToken cancellationToken)
    {
        await store.Identities.EnsureAccountAsync(account, time.GetUtcNow(), cancellationToken);
        return await store.Identities.CreateUserAsync(account, name, AccessKeys.NewPrincipalId(), time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Issues a key for the user or root (creating the account when needed); null when the principal does not exist.</summary>
    public async Task<NewAccessKey?> IssueAccessKeyAsync(AccountId account, string principalArn, CancellationToken cancellationToken)
    {
        await store.Identities.EnsureAccountAsync(account, time.GetUtcNow(), cancellationToken);
        var (record, secret) = AccessKeys.Issue(principalArn, secrets, time.GetUtcNow());
        return await store.Identities.CreateAccessKeyAsync(record, cancellationToken) ? new NewAccessKey(record, secret) : null;
    }

    /// <summary>
    /// The first start's root key: creates the account when needed and, when its root has no key yet,
    /// a key for it; null when the root already has one.
    /// </summary>
    public async Task<NewAccessKey?> IssueFirstRootKeyAsync(AccountId account, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await store.Identities.EnsureAccountAsync(account, now, cancellationToken);
        var root = Caller.Root(account).PrincipalArn;
        if ((await store.Identities.ListAccessKeysAsync(root, cancellationToken)).Count > 0)
        {
            return null;
        }

        var (key, secret) = AccessKeys.Issue(root, secrets, now);
        await store.Identities.CreateAccessKeyAsync(key, cancellationToken);
        return new NewAccessKey(key, secret);
    }

    /// <summary>
    /// Adds or replaces an inline identity policy of the user or root; throws <see cref="PolicyFormatException"/>
    /// when the document is not a valid identity policy, false when the principal does not exist.
    /// </summary>
    public async Task<bool> PutInlinePolicyAsync(string principalArn, string policyName, string document, CancellationToken cancellationToken)
    {
        PolicyDocument.Parse(document, isResourcePolicy: false);
        return await store.Identities.PutInlinePolicyAsync(principalArn, policyName, document, cancellationToken);
    }

    /// <summary>Attaches a managed policy (one of <see cref="ManagedPolicies.Arns"/>) to the user or root; false when the principal does not exist.</summary>
    public Task<bool> AttachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken) =>
        store.Identities.AttachManagedPolicyAsync(principalArn, policyArn, cancellationToken);
}
