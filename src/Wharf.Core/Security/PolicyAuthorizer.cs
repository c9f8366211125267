using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security.Policies;

namespace Wharf.Core.Security;

/// <summary>
/// IAM mode's authorizer: gathers the caller's identity policies (inline and attached managed) and,
/// for a repository, its repository policy and its registry's policy, builds the request context (principal, time, source IP,
/// transport, resource tags) and asks <see cref="PolicyEvaluator"/>, on every request. What it reads of the store —
/// a principal's identity policies (parsed), the registry policy and its scope, a repository's policy and tags — is
/// kept while the store's authorization generation is unchanged (<see cref="AuthorizationCache{TKey, TValue}"/>): a
/// request reads the generation once (or brings it in <see cref="Caller.AuthorizationGeneration"/>), so a revoked
/// permission stops the next call whoever made the change. <c>GetAuthorizationToken</c> is decided by identity
/// policies alone, as in ECR.
/// </summary>
public sealed partial class PolicyAuthorizer(IMetadataStore store, TimeProvider time, ILogger<PolicyAuthorizer> logger) : IAccessAuthorizer
{
    private readonly ConcurrentDictionary<string, PolicyDocument> parsed = new(StringComparer.Ordinal);
    private readonly AuthorizationCache<string, IdentitySet> identitySets = new(StringComparer.Ordinal);
    private readonly AuthorizationCache<RegistryKey, RegistryPolicy> registryPolicies = new();
    private readonly AuthorizationCache<RepositoryKey, RepositoryPolicy> repositoryPolicies = new();
    private readonly AuthorizationCache<string, string> allowed = new(StringComparer.Ordinal);

    // A principal's identity policies, parsed, with their stored texts (for the aws:userid check).
    // ContextFree: no statement has a condition or a policy variable, so only principal, action and resource decide.
    private sealed record IdentitySet(IReadOnlyList<PolicyDocument> Documents, IReadOnlyList<string> Texts, bool ContextFree);

    // Text: the registry policy, if any; AllRequests: whether it applies to every request (V2 scope) or only to V1's actions.
    private sealed record RegistryPolicy(string? Text, bool AllRequests);

    // Exists: whether the repository exists; Text: its policy; Tags: its resource tags.
    private sealed record RepositoryPolicy(bool Exists, string? Text, IReadOnlyList<ResourceTag> Tags);

    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, RequestTags.Setting([]), cancellationToken);

    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, RequestTags tags, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, tags, null, cancellationToken);

    public ValueTask AuthorizeAsync(Caller caller, RegistryKey registry, string action, string resourceArn, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, RequestTags.Setting([]), registry, cancellationToken);

    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, KeyPolicyContext key, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, RequestTags.Setting([]), null, cancellationToken, key);

    // registry: the registry an operation not scoped to one repository acts on (a repository ARN names its own).
    // kmsKey: a KMS key's policy and condition keys; the key policy must allow, as KMS requires.
    private async ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, RequestTags tags, RegistryKey? registry, CancellationToken cancellationToken, KeyPolicyContext? kmsKey = null)
    {
        // A public repository's content is everyone's to read, as ECR Public's pulls need no permission;
        // anything else on it is an ecr-public: action, decided by policies as any other.
        if (EcrPublicActions.IsEveryonesRead(action, resourceArn))
        {
            return;
        }

        action = EcrPublicActions.ForResource(action, resourceArn);
        if (caller.IsAnonymous)
        {
            throw new WharfException(WharfErrorCode.Denied, $"Anonymous callers are not authorized to perform: {action} on resource: {resourceArn}");
        }

        // A user's policies include its groups'; a role session's are its role's.
        var identityArn = caller.IdentityArn;
        var roleSession = identityArn != caller.PrincipalArn;
        // Read before anything it guards: what is read after it is at least as new as it.
        var generation = caller.AuthorizationGeneration ?? await store.Identities.GetAuthorizationGenerationAsync(cancellationToken);

        // An allow on a repository that no policy in play conditions on the request's context (time, address,
        // transport, tags, policy variables) is the same for the same principal, action and repository until the
        // generation changes; anything else is evaluated afresh.
        string? decisionKey = null;
        if (kmsKey is null && tags.Tags.Count == 0 && tags.Keys.Count == 0 && resourceArn.StartsWith("arn:aws:ecr", StringComparison.Ordinal))
        {
            decisionKey = string.Concat(caller.Account.Value, "\n", caller.PrincipalArn, "\n", action, "\n", resourceArn);
            if (allowed.TryGet(decisionKey, generation, out var statement))
            {
                LogDecision(logger, DecisionKind.Allow, caller.PrincipalArn, action, resourceArn, statement);
                return;
            }
        }

        var contextFree = true;
        var identity = new List<PolicyDocument>();
        var texts = new List<string>();
        if (!caller.IsRoot)
        {
            var set = await IdentityPoliciesAsync(identityArn, generation, cancellationToken);
            identity.AddRange(set.Documents);
            texts.AddRange(set.Texts);
            contextFree = set.ContextFree;
        }

        var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            // For a role session aws:PrincipalArn is the role's ARN, as in AWS.
            ["aws:PrincipalArn"] = [identityArn],
            ["aws:PrincipalAccount"] = [caller.Account.Value],
            ["aws:PrincipalType"] = [caller.IsRoot ? "Account" : roleSession ? "AssumedRole" : "User"],
            ["aws:CurrentTime"] = [time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)],
            ["aws:EpochTime"] = [time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)],
            ["aws:SecureTransport"] = [caller.SecureTransport ? "true" : "false"],
        };
        if (!caller.IsRoot && !roleSession)
        {
            keys["aws:username"] = [caller.PrincipalArn.Split('/')[^1]];
        }

        if (caller.SourceIp is { } ip)
        {
            keys["aws:SourceIp"] = [ip];
        }

        foreach (var tag in tags.Tags)
        {
            keys[$"aws:RequestTag/{tag.Key}"] = [tag.Value];
        }

        if (tags.Keys.Count > 0)
        {
            keys["aws:TagKeys"] = tags.Keys;
        }

        var resourcePolicies = new List<PolicyDocument>();
        var resourceAccount = caller.Account.Value;
        if (kmsKey is not null)
        {
            resourceAccount = kmsKey.Account.Value;
            texts.Add(kmsKey.Policy);
            resourcePolicies.Add(Parse(kmsKey.Policy, isResourcePolicy: true));
            foreach (var (name, values) in kmsKey.Keys)
            {
                keys[name] = values;
            }
        }
        else if (action == "sts:AssumeRole")
        {
            // The role's trust policy is the resource policy of AssumeRole; a missing role allows nothing.
            resourceAccount = resourceArn.Split(':') is { Length: >= 6 } roleParts ? roleParts[4] : resourceAccount;
            if (await store.Identities.GetRoleAsync(resourceArn, cancellationToken) is { } role)
            {
                texts.Add(role.TrustPolicy);
                resourcePolicies.Add(Parse(role.TrustPolicy, isResourcePolicy: true));
            }
        }
        else if (RepositoryKey.FromArn(resourceArn) is { } key)
        {
            resourceAccount = key.Registry.Account.Value;
            await AddRegistryPolicyAsync(key.Registry, action, generation, texts, resourcePolicies, cancellationToken);
            var repository = await RepositoryPolicyAsync(key, generation, cancellationToken);
            if (repository.Exists)
            {
                if (repository.Text is { } text && action != EcrActions.GetAuthorizationToken)
                {
                    texts.Add(text);
                    resourcePolicies.Add(Parse(text, isResourcePolicy: true));
                }

                foreach (var tag in repository.Tags)
                {
                    keys[$"aws:ResourceTag/{tag.Key}"] = [tag.Value];
                    keys[$"ecr:ResourceTag/{tag.Key}"] = [tag.Value];
                }
            }
        }
        else if (registry is { } whole)
        {
            // Not one repository (DescribeRegistry, DescribeRepositories without names, the registry's
            // settings): the registry policy still applies, as ECR applies it to every request in V2 scope.
            resourceAccount = whole.Account.Value;
            await AddRegistryPolicyAsync(whole, action, generation, texts, resourcePolicies, cancellationToken);
        }
        else if (resourceArn != "*" && resourceArn.Split(':') is { Length: >= 6 } parts && parts[4] != "aws")
        {
            // (AWS managed policies, account "aws", are every account's to read: the caller's own identity decides.)
            resourceAccount = parts[4];
        }

        // aws:userid costs a read when the caller did not bring it (a /v2 token): only when a policy asks.
        var userId = caller.IsRoot ? caller.Account.Value : caller.UserId;
        if (userId is null && texts.Any(t => t.Contains("aws:userid", StringComparison.OrdinalIgnoreCase)))
        {
            userId = roleSession
                ? (await store.Identities.GetPrincipalAsync(identityArn, cancellationToken))?.UniqueId + ":" + caller.PrincipalArn.Split('/')[^1]
                : (await store.Identities.GetPrincipalAsync(caller.PrincipalArn, cancellationToken))?.UniqueId;
        }

        if (userId is not null)
        {
            keys["aws:userid"] = [userId];
        }

        var request = new RequestContext(caller.PrincipalArn, caller.Account.Value, action, resourceArn, resourceAccount, keys);
        var decision = PolicyEvaluator.EvaluateAll(request, identity, resourcePolicies, resourcePolicyRequired: action == "sts:AssumeRole" || kmsKey is not null);
        if (decision.Kind == DecisionKind.ImplicitDeny && kmsKey is { GrantAllows: true })
        {
            // A grant allows what no policy denies explicitly (KMS's grants are an allow beside the key policy).
            return;
        }

        var decidedBy = decision.Statement?.Sid ?? (decision.Statement is null ? "(none)" : "(no Sid)");
        LogDecision(logger, decision.Kind, caller.PrincipalArn, action, resourceArn, decidedBy);
        if (decision.Allowed && decisionKey is not null && RepositoryKey.FromArn(resourceArn) is not null && contextFree && resourcePolicies.All(IsContextFree))
        {
            allowed.Set(decisionKey, generation, decidedBy);
        }

        if (!decision.Allowed)
        {
            throw new WharfException(WharfErrorCode.Denied, PolicyEvaluator.DenialMessage(request, decision));
        }
    }

    // The registry policy applies beside a repository's: to every request in V2 scope (the default),
    // only to replication, pull-through import and repository creation in V1 (ECR's legacy).
    private async Task AddRegistryPolicyAsync(RegistryKey registry, string action, long generation, List<string> texts, List<PolicyDocument> resourcePolicies, CancellationToken cancellationToken)
    {
        if (!registryPolicies.TryGet(registry, generation, out var policy))
        {
            var text = await store.Repositories.GetRegistryPolicyAsync(registry, cancellationToken);
            var allRequests = text is not null
                && Repositories.AccountSettings.Value(await store.Repositories.GetRegistrySettingsAsync(registry, cancellationToken), Repositories.AccountSettings.RegistryPolicyScope) == "V2";
            policy = new RegistryPolicy(text, allRequests);
            registryPolicies.Set(registry, generation, policy);
        }

        if (policy.Text is { } registryPolicy
            && (action is "ecr:ReplicateImage" or "ecr:BatchImportUpstreamImage" or EcrActions.CreateRepository || policy.AllRequests))
        {
            texts.Add(registryPolicy);
            resourcePolicies.Add(Parse(registryPolicy, isResourcePolicy: true));
        }
    }

    // A user's own and its groups' policies, or a role's; customer managed ones with their default version as read.
    private async Task<IdentitySet> IdentityPoliciesAsync(string identityArn, long generation, CancellationToken cancellationToken)
    {
        if (identitySets.TryGet(identityArn, generation, out var set))
        {
            return set;
        }

        var identity = new List<PolicyDocument>();
        var texts = new List<string>();
        var policies = await store.Identities.GetIdentityPoliciesAsync(identityArn, cancellationToken);
        texts.AddRange(policies.Inline);
        identity.AddRange(policies.Inline.Select(p => Parse(p, isResourcePolicy: false)));
        identity.AddRange(policies.Managed.Select(ManagedPolicies.Find).OfType<PolicyDocument>());
        var customer = policies.Managed.Where(arn => ManagedPolicies.Find(arn) is null).ToList();
        if (customer.Count > 0)
        {
            var documents = await store.Identities.GetManagedPolicyDocumentsAsync(customer, cancellationToken);
            texts.AddRange(documents);
            identity.AddRange(documents.Select(d => Parse(d, isResourcePolicy: false)));
        }

        set = new IdentitySet(identity, texts, identity.All(IsContextFree));
        identitySets.Set(identityArn, generation, set);
        return set;
    }

    private async Task<RepositoryPolicy> RepositoryPolicyAsync(RepositoryKey key, long generation, CancellationToken cancellationToken)
    {
        if (repositoryPolicies.TryGet(key, generation, out var policy))
        {
            return policy;
        }

        policy = await store.Repositories.GetAsync(key, cancellationToken) is { } repository
            ? new RepositoryPolicy(true, repository.Policy, await store.Repositories.GetResourceTagsAsync(repository.Id, cancellationToken))
            : new RepositoryPolicy(false, null, []);
        repositoryPolicies.Set(key, generation, policy);
        return policy;
    }

    // No condition and no policy variable (${…}) in any statement: the decision depends on principal, action and resource only.
    private static bool IsContextFree(PolicyDocument document) =>
        document.Statements.All(s => s.Conditions.Count == 0
            && !s.Resources.Any(r => r.Contains("${", StringComparison.Ordinal))
            && (s.Principals is null || !s.Principals.Any(p => p.Value.Contains("${", StringComparison.Ordinal))));

    [LoggerMessage(EventId = 1300, Level = LogLevel.Debug, Message = "{Decision}: {Principal} {Action} on {Resource}, decided by statement {Statement}")]
    private static partial void LogDecision(ILogger logger, DecisionKind decision, string principal, string action, string resource, string statement);

    // Stored documents were validated when written; parse each text once.
    private PolicyDocument Parse(string text, bool isResourcePolicy)
    {
        if (parsed.Count > 10_000)
        {
            parsed.Clear(); // replaced documents would otherwise accumulate
        }

        return parsed.GetOrAdd((isResourcePolicy ? "r:" : "i:") + text, _ => PolicyDocument.Parse(text, isResourcePolicy));
    }
}
