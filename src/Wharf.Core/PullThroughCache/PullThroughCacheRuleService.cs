using System.Net.Http;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Secrets;
using Wharf.Core.Security;

namespace Wharf.Core.PullThroughCache;

/// <summary>The members of a <c>CreatePullThroughCacheRule</c> call, past the model's checks (types, lengths, patterns, enums).</summary>
public sealed record PullThroughCacheRuleInput(
    string EcrRepositoryPrefix,
    string UpstreamRegistryUrl,
    string? UpstreamRegistry = null,
    string? CredentialArn = null,
    string? CustomRoleArn = null,
    string? UpstreamRepositoryPrefix = null);

/// <summary>What <c>ValidatePullThroughCacheRule</c> found: the rule, and why it does not work (null when it does).</summary>
public sealed record PullThroughCacheRuleValidation(PullThroughCacheRule Rule, string? Failure)
{
    public bool IsValid => Failure is null;
}

/// <summary>
/// ECR's pull-through cache rule operations (ECR-NOTES §7.1–7.2): authorised on <c>*</c> (the rule actions
/// have no resource type, as the template actions), checked as ECR checks a rule (prefixes, the upstream's
/// name against its URL, who needs a secret or a role, the secret's account and region and that it opens),
/// and kept in one registry setting changed under the registry's row lock. Wharf's extension: any OCI
/// registry's URL, its <c>upstreamRegistry</c> left out, with or without a secret.
/// </summary>
public sealed class PullThroughCacheRuleService(
    IMetadataStore store,
    IAccessAuthorizer authorizer,
    ISecretValues secrets,
    IUpstreamRegistries upstreams,
    PullThroughCacheSettings settings,
    TimeProvider time)
{
    private enum Change
    {
        Done,
        Exists,
        Full,
    }

    public async Task<PullThroughCacheRule> CreateAsync(Caller caller, RegistryKey registry, PullThroughCacheRuleInput input, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.CreatePullThroughCacheRule, "*", cancellationToken);
        var known = UpstreamRegistryUrl.KnownRegistry(UpstreamRegistryUrl.Parse(input.UpstreamRegistryUrl, settings.AllowInsecureUpstreams));
        var upstreamRegistry = input.UpstreamRegistry ?? known;
        if (input.UpstreamRegistry is { } named && named != known && !(named == UpstreamRegistryUrl.Ecr && known is null))
        {
            throw new WharfException(
                WharfErrorCode.UnsupportedUpstreamRegistry,
                known is null
                    ? $"The upstream registry '{named}' is not served at '{input.UpstreamRegistryUrl}'. Leave upstreamRegistry out to cache any OCI registry, or give upstreamRegistry ecr for another Wharf"
                    : $"The upstream registry URL '{input.UpstreamRegistryUrl}' is the upstream registry '{known}', not '{named}'");
        }

        var upstreamPrefix = input.UpstreamRepositoryPrefix ?? PullThroughCacheRule.Root;
        if (PullThroughCacheRule.KeyOf(upstreamPrefix) != PullThroughCacheRule.Root)
        {
            if (PullThroughCacheRule.KeyOf(input.EcrRepositoryPrefix) == PullThroughCacheRule.Root)
            {
                throw WharfException.InvalidParameter("upstreamRepositoryPrefix", "can be set only when ecrRepositoryPrefix is not ROOT");
            }

            if (upstreamRegistry is not (null or UpstreamRegistryUrl.Ecr))
            {
                throw WharfException.InvalidParameter("upstreamRepositoryPrefix", $"can be set only for an ecr upstream registry, not {upstreamRegistry}");
            }
        }

        var now = time.GetUtcNow();
        var rule = new PullThroughCacheRule(
            input.EcrRepositoryPrefix, input.UpstreamRegistryUrl, upstreamRegistry, Blank(input.CredentialArn), Blank(input.CustomRoleArn), upstreamPrefix, now, now);
        await CheckAccessAsync(registry, rule, cancellationToken);
        var change = await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            PullThroughCacheRules.SettingName,
            current =>
            {
                var rules = PullThroughCacheRules.FromSetting(current);
                return rules.Find(rule.EcrRepositoryPrefix) is not null ? (current, Change.Exists)
                    : rules.Rules.Count >= PullThroughCacheRules.MaxRules ? (current, Change.Full)
                    : (rules.With(rule).ToSetting(), Change.Done);
            },
            cancellationToken);
        return change switch
        {
            Change.Exists => throw new WharfException(
                WharfErrorCode.PullThroughCacheRuleAlreadyExists,
                $"A pull through cache rule with the prefix '{rule.Key}' already exists in the registry with id '{registry.Account}'"),
            Change.Full => throw new WharfException(
                WharfErrorCode.PullThroughCacheRuleLimitExceeded,
                $"The registry with id '{registry.Account}' already has the maximum of {PullThroughCacheRules.MaxRules} pull through cache rules"),
            _ => rule,
        };
    }

    /// <summary>
    /// The registry's rules ordered by prefix, those named by <paramref name="prefixes"/> (all when none; a named
    /// prefix without a rule is <c>PullThroughCacheRuleNotFoundException</c>, as ECR answers), after the prefix
    /// <paramref name="after"/>, at most <paramref name="limit"/>.
    /// </summary>
    public async Task<IReadOnlyList<PullThroughCacheRule>> DescribeAsync(
        Caller caller, RegistryKey registry, IReadOnlyList<string> prefixes, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DescribePullThroughCacheRules, "*", cancellationToken);
        var rules = await PullThroughCacheRules.LoadAsync(store.Repositories, registry, cancellationToken);
        if (prefixes.FirstOrDefault(p => rules.Find(p) is null) is { } missing)
        {
            throw NotFound(registry, missing);
        }

        var keys = prefixes.Select(PullThroughCacheRule.KeyOf).ToHashSet(StringComparer.Ordinal);
        return rules.Rules
            .Where(r => keys.Count == 0 || keys.Contains(r.Key))
            .Where(r => after is null || string.CompareOrdinal(r.Key, after) > 0)
            .Take(limit)
            .ToList();
    }

    /// <summary>Changes the rule's secret and role (what ECR lets change; a member not given keeps its value).</summary>
    public async Task<PullThroughCacheRule> UpdateAsync(
        Caller caller, RegistryKey registry, string prefix, string? credentialArn, string? customRoleArn, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.UpdatePullThroughCacheRule, "*", cancellationToken);
        var existing = (await PullThroughCacheRules.LoadAsync(store.Repositories, registry, cancellationToken)).Find(prefix) ?? throw NotFound(registry, prefix);
        var updated = existing with
        {
            CredentialArn = credentialArn is not null ? Blank(credentialArn) : existing.CredentialArn,
            CustomRoleArn = customRoleArn is not null ? Blank(customRoleArn) : existing.CustomRoleArn,
            UpdatedAt = time.GetUtcNow(),
        };
        await CheckAccessAsync(registry, updated, cancellationToken);
        return await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            PullThroughCacheRules.SettingName,
            current =>
            {
                var rules = PullThroughCacheRules.FromSetting(current);
                if (rules.Find(prefix) is not { } now)
                {
                    return (current, (PullThroughCacheRule?)null);
                }

                // Only the two members change: a rule deleted and created again meanwhile keeps its own upstream.
                var result = now with { CredentialArn = updated.CredentialArn, CustomRoleArn = updated.CustomRoleArn, UpdatedAt = updated.UpdatedAt };
                return (rules.With(result).ToSetting(), result);
            },
            cancellationToken) ?? throw NotFound(registry, prefix);
    }

    /// <summary>Deletes the rule; returns it as it was. Repositories it filled stay (ordinary repositories).</summary>
    public async Task<PullThroughCacheRule> DeleteAsync(Caller caller, RegistryKey registry, string prefix, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DeletePullThroughCacheRule, "*", cancellationToken);
        return await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            PullThroughCacheRules.SettingName,
            current =>
            {
                var rules = PullThroughCacheRules.FromSetting(current);
                return rules.Find(prefix) is { } existing ? (rules.Without(prefix).ToSetting(), existing) : (current, (PullThroughCacheRule?)null);
            },
            cancellationToken) ?? throw NotFound(registry, prefix);
    }

    /// <summary>
    /// Reads the rule's secret and checks its form, then authenticates to the upstream as a pull would. Every
    /// failure of the secret or the upstream is the answer's <see cref="PullThroughCacheRuleValidation.Failure"/>, never an exception.
    /// </summary>
    public async Task<PullThroughCacheRuleValidation> ValidateAsync(Caller caller, RegistryKey registry, string prefix, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.ValidatePullThroughCacheRule, "*", cancellationToken);
        var rule = (await PullThroughCacheRules.LoadAsync(store.Repositories, registry, cancellationToken)).Find(prefix) ?? throw NotFound(registry, prefix);
        return new PullThroughCacheRuleValidation(rule, await FailureAsync(registry, rule, cancellationToken));
    }

    private async Task<string?> FailureAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken)
    {
        try
        {
            // Connecting reads the secret and checks its form (username and accessToken).
            var upstream = await upstreams.ConnectAsync(registry, rule, cancellationToken);
            await upstream.CheckAsync(null, cancellationToken);
            return null;
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.SecretNotFound or WharfErrorCode.UnableToAccessSecret or WharfErrorCode.UnableToDecryptSecretValue)
        {
            return $"The rule's secret cannot be used ({ErrorCatalogue.Describe(e.Code).AwsType}): {e.Message}";
        }
        catch (UpstreamException e)
        {
            return e.Failure switch
            {
                UpstreamFailure.AccessDenied => $"The upstream registry refused the rule's credentials: {e.Message}",
                UpstreamFailure.TooManyRequests => $"The upstream registry is limiting requests: {e.Message}",
                UpstreamFailure.NotFound => $"The upstream registry does not have what the rule names: {e.Message}",
                _ => $"The upstream registry is unreachable: {e.Message}",
            };
        }
        catch (HttpRequestException e)
        {
            return $"The upstream registry is unreachable: {e.Message}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "The upstream registry is unreachable: it did not answer in time.";
        }
    }

    /// <summary>Who needs a secret or a role (ECR-NOTES §7.1), and that the secret is the registry's own and opens.</summary>
    private async Task CheckAccessAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken)
    {
        var upstream = rule.UpstreamRegistry;
        if (rule.CredentialArn is null && UpstreamRegistryUrl.NeedsCredential(upstream))
        {
            throw WharfException.InvalidParameter("credentialArn", $"a rule for the upstream registry {upstream} needs the ARN of a Secrets Manager secret with its credentials");
        }

        // Wharf's extension: another Wharf as ecr upstream may name a secret holding the access key that assumes the role.
        var anotherWharf = upstream == UpstreamRegistryUrl.Ecr
            && UpstreamRegistryUrl.KnownRegistry(UpstreamRegistryUrl.Parse(rule.UpstreamRegistryUrl, allowInsecure: true)) is null;
        if (rule.CredentialArn is not null && UpstreamRegistryUrl.RefusesCredential(upstream) && !anotherWharf)
        {
            throw WharfException.InvalidParameter(
                "credentialArn",
                upstream == UpstreamRegistryUrl.Ecr
                    ? "a rule for an ECR upstream registry authenticates with customRoleArn, not a secret"
                    : $"the upstream registry {upstream} is pulled from without credentials; leave credentialArn out");
        }

        if (upstream == UpstreamRegistryUrl.Ecr && rule.CustomRoleArn is null)
        {
            throw WharfException.InvalidParameter("customRoleArn", "a rule for an ecr upstream registry needs the ARN of the IAM role to pull with");
        }

        if (rule.CustomRoleArn is { } role)
        {
            if (upstream != UpstreamRegistryUrl.Ecr)
            {
                throw WharfException.InvalidParameter("customRoleArn", "only a rule for an ecr upstream registry assumes a role");
            }

            CreationTemplateService.CheckRoleArn(registry, role);
        }

        if (rule.CredentialArn is { } arn)
        {
            // arn:partition:secretsmanager:region:account:secret:name (the model checked the form and the name).
            var parts = arn.Split(':', 7);
            if (parts.Length < 7 || parts[3] != registry.Region || parts[4] != registry.Account.Value)
            {
                throw new WharfException(
                    WharfErrorCode.UnableToAccessSecret,
                    $"The secret '{arn}' is not in the account and region of the registry with id '{registry.Account}' ({registry.Region}); a rule can use only a secret of its own registry's account and region");
            }

            await secrets.GetCurrentStringAsync(registry, arn, cancellationToken);
        }
    }

    private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static WharfException NotFound(RegistryKey registry, string prefix) =>
        new(WharfErrorCode.PullThroughCacheRuleNotFound, $"The pull through cache rule with the prefix '{PullThroughCacheRule.KeyOf(prefix)}' does not exist in the registry with id '{registry.Account}'");
}
