using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Scanning;
using Wharf.Core.Security;
using Policies = Wharf.Core.Security.Policies;

namespace Wharf.Core.Repositories;

/// <summary>ECR's repository operations: create, describe, delete, settings and resource tags.</summary>
public sealed partial class RepositoryService(IMetadataStore store, IAccessAuthorizer authorizer, RepositoryResolver resolver, TimeProvider time, RepositoryEncryption? encryption = null)
{
    /// <summary>ECR's limit on resource tags per repository.</summary>
    public const int MaxResourceTags = 50;

    public async Task<Repository> CreateAsync(Caller caller, RepositoryKey key, RepositorySettings settings, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, EcrActions.CreateRepository, key.Arn, RequestTags.Setting(tags), cancellationToken);
        CheckTags(tags);
        if (tags.Select(t => t.Key).Distinct(StringComparer.Ordinal).Count() > MaxResourceTags)
        {
            throw TooManyTags();
        }

        // ECR's checks of a KMS key come after the repository's own: the key is stored as its ARN, fixed from now on.
        if (RepositoryEncryption.IsKms(settings))
        {
            settings = encryption is not null
                ? await encryption.ResolveAsync(caller, key, settings, cancellationToken)
                : throw new WharfException(WharfErrorCode.InvalidParameter, "KMS encryption needs the key service, which this server does not run");
        }

        return await store.Repositories.CreateAsync(key, settings, tags, time.GetUtcNow(), cancellationToken)
            ?? throw new WharfException(
                WharfErrorCode.RepositoryAlreadyExists,
                $"The repository with name '{key.Name}' already exists in the registry with id '{key.Registry.Account}'");
    }

    /// <summary>The named repositories, in the order asked; the first missing one fails the call (as ECR).</summary>
    public async Task<IReadOnlyList<Repository>> DescribeAsync(Caller caller, RegistryKey registry, IReadOnlyList<RepositoryName> names, CancellationToken cancellationToken)
    {
        var found = new List<Repository>(names.Count);
        foreach (var name in names.Distinct())
        {
            found.Add(await resolver.GetAsync(caller, new RepositoryKey(registry, name), EcrActions.DescribeRepositories, cancellationToken));
        }

        return found;
    }

    /// <summary>A page of the registry's repositories, by name, after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<Repository>> ListAsync(Caller caller, RegistryKey registry, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DescribeRepositories, RegistryArn(registry), cancellationToken);
        return await store.Repositories.ListAsync(registry, after, limit, cancellationToken);
    }

    /// <summary>Deletes the repository; without <paramref name="force"/> only when it has no images.</summary>
    public async Task<Repository> DeleteAsync(Caller caller, RepositoryKey key, bool force, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.DeleteRepository, cancellationToken);
        if (force)
        {
            return await store.Repositories.DeleteAsync(repository.Id, cancellationToken) ? repository : throw RepositoryResolver.NameUnknown(key);
        }

        return await store.Repositories.DeleteIfEmptyAsync(repository.Id, cancellationToken) switch
        {
            RepositoryDeleteResult.Deleted => repository,
            RepositoryDeleteResult.NotEmpty => throw new WharfException(
                WharfErrorCode.RepositoryNotEmpty,
                $"The repository with name '{key.Name}' in registry with id '{key.Registry.Account}' cannot be deleted because it still contains images"),
            _ => throw RepositoryResolver.NameUnknown(key),
        };
    }

    public Task<Repository> PutTagMutabilityAsync(Caller caller, RepositoryKey key, TagMutability mutability, IReadOnlyList<string> exclusions, CancellationToken cancellationToken) =>
        UpdateAsync(caller, key, EcrActions.PutImageTagMutability, s => s with { Mutability = mutability, MutabilityExclusions = exclusions }, cancellationToken);

    public Task<Repository> PutScanOnPushAsync(Caller caller, RepositoryKey key, bool scanOnPush, CancellationToken cancellationToken) =>
        UpdateAsync(caller, key, EcrActions.PutImageScanningConfiguration, s => s with { ScanOnPush = scanOnPush }, cancellationToken);

    public async Task<IReadOnlyList<ResourceTag>> ListResourceTagsAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.ListTagsForResource, cancellationToken);
        return await store.Repositories.GetResourceTagsAsync(repository.Id, cancellationToken);
    }

    public async Task TagResourceAsync(Caller caller, RepositoryKey key, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.TagResource, RequestTags.Setting(tags), cancellationToken);
        CheckTags(tags);
        switch (await store.Repositories.TagAsync(repository.Id, tags, MaxResourceTags, cancellationToken))
        {
            case ResourceTagResult.NotFound:
                throw RepositoryResolver.NameUnknown(key);
            case ResourceTagResult.TooManyTags:
                throw TooManyTags();
        }
    }

    public async Task UntagResourceAsync(Caller caller, RepositoryKey key, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.UntagResource, RequestTags.Naming(keys), cancellationToken);
        foreach (var tagKey in keys)
        {
            CheckTagKey(tagKey);
        }

        if (!await store.Repositories.UntagAsync(repository.Id, keys, cancellationToken))
        {
            throw RepositoryResolver.NameUnknown(key);
        }
    }

    /// <summary>Validates <paramref name="policyText"/> as a resource policy and sets it.</summary>
    public async Task<Repository> SetPolicyAsync(Caller caller, RepositoryKey key, string policyText, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.SetRepositoryPolicy, cancellationToken);
        CheckRepositoryPolicy(policyText, "PolicyText");

        return await store.Repositories.SetPolicyAsync(repository.Id, policyText, cancellationToken)
            ? repository with { Policy = policyText }
            : throw RepositoryResolver.NameUnknown(key);
    }

    public async Task<Repository> GetPolicyAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.GetRepositoryPolicy, cancellationToken);
        return repository.Policy is null ? throw PolicyNotFound(key) : repository;
    }

    /// <summary>Removes the policy; returns the repository with the policy it had.</summary>
    public async Task<Repository> DeletePolicyAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, EcrActions.DeleteRepositoryPolicy, cancellationToken);
        if (repository.Policy is null)
        {
            throw PolicyNotFound(key);
        }

        await store.Repositories.SetPolicyAsync(repository.Id, null, cancellationToken);
        return repository;
    }

    /// <summary>Validates and sets the registry policy (ECR's V2 scope: it applies to every request in the registry).</summary>
    /// <summary>ECR's <c>PutRegistryScanningConfiguration</c>: <c>BASIC</c> rules may only scan on push; <c>ENHANCED</c> ones on push or continuously.</summary>
    public async Task<ScanningConfiguration> PutScanningConfigurationAsync(Caller caller, RegistryKey registry, ScanningConfiguration configuration, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.PutRegistryScanningConfiguration, "*", cancellationToken);
        string[] allowed = configuration.ScanType == "ENHANCED" ? ["SCAN_ON_PUSH", "CONTINUOUS_SCAN"] : ["SCAN_ON_PUSH"];
        if (configuration.Rules.FirstOrDefault(r => !allowed.Contains(r.ScanFrequency)) is { } rule)
        {
            throw new WharfException(
                WharfErrorCode.InvalidParameter,
                $"Invalid parameter at 'rules' failed to satisfy constraint: 'scanFrequency {rule.ScanFrequency} is not supported with scanType {configuration.ScanType}; it supports {string.Join(" and ", allowed)}'");
        }

        await store.Repositories.SetRegistrySettingAsync(registry, ScanningConfiguration.SettingName, configuration.ToSetting(), cancellationToken);
        return configuration;
    }

    public async Task<ScanningConfiguration> GetScanningConfigurationAsync(Caller caller, RegistryKey registry, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.GetRegistryScanningConfiguration, "*", cancellationToken);
        return await ScanningConfiguration.LoadAsync(store.Repositories, registry, cancellationToken);
    }

    /// <summary>ECR's <c>BatchGetRepositoryScanningConfiguration</c>: each named repository's scanning, or its failure.</summary>
    public async Task<(IReadOnlyList<(Repository Repository, RepositoryScanning Scanning)> Found, IReadOnlyList<string> Missing)> GetRepositoryScanningAsync(
        Caller caller, RegistryKey registry, IReadOnlyList<RepositoryName> names, CancellationToken cancellationToken)
    {
        var configuration = await ScanningConfiguration.LoadAsync(store.Repositories, registry, cancellationToken);
        var found = new List<(Repository, RepositoryScanning)>();
        var missing = new List<string>();
        foreach (var name in names.Distinct())
        {
            var key = new RepositoryKey(registry, name);
            await authorizer.AuthorizeAsync(caller, EcrActions.BatchGetRepositoryScanningConfiguration, key.Arn, cancellationToken);
            if (await store.Repositories.GetAsync(key, cancellationToken) is { } repository)
            {
                found.Add((repository, configuration.For(name.Value, repository.Settings.ScanOnPush)));
            }
            else
            {
                missing.Add(name.Value);
            }
        }

        return (found, missing);
    }

    public async Task PutRegistryPolicyAsync(Caller caller, RegistryKey registry, string policyText, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.PutRegistryPolicy, "*", cancellationToken);
        try
        {
            Policies.PolicyDocument.Parse(policyText, isResourcePolicy: true);
        }
        catch (Policies.PolicyFormatException)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'");
        }

        await store.Repositories.SetRegistryPolicyAsync(registry, policyText, cancellationToken);
    }

    public async Task<string> GetRegistryPolicyAsync(Caller caller, RegistryKey registry, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.GetRegistryPolicy, "*", cancellationToken);
        return await store.Repositories.GetRegistryPolicyAsync(registry, cancellationToken) ?? throw RegistryPolicyNotFound(registry);
    }

    /// <summary>Removes the registry policy; returns the policy it had.</summary>
    public async Task<string> DeleteRegistryPolicyAsync(Caller caller, RegistryKey registry, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DeleteRegistryPolicy, "*", cancellationToken);
        return await store.Repositories.SetRegistryPolicyAsync(registry, null, cancellationToken) ?? throw RegistryPolicyNotFound(registry);
    }

    public async Task<string> GetAccountSettingAsync(Caller caller, RegistryKey registry, string name, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.GetAccountSetting, "*", cancellationToken);
        CheckSettingName(name);
        return AccountSettings.Value(await store.Repositories.GetRegistrySettingsAsync(registry, cancellationToken), name);
    }

    public async Task PutAccountSettingAsync(Caller caller, RegistryKey registry, string name, string value, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.PutAccountSetting, "*", cancellationToken);
        CheckSettingName(name);
        if (!AccountSettings.ValuesOf(name).Contains(value, StringComparer.Ordinal))
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, $"Invalid parameter at 'value' failed to satisfy constraint: 'must be one of [{string.Join(", ", AccountSettings.ValuesOf(name))}] for {name}'");
        }

        await store.Repositories.SetRegistrySettingAsync(registry, name, value, cancellationToken);
    }

    private static void CheckSettingName(string name)
    {
        if (!AccountSettings.IsKnown(name))
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, $"Invalid parameter at 'name' failed to satisfy constraint: 'must be one of [{string.Join(", ", AccountSettings.Names)}]'");
        }
    }

    /// <summary>Asks the authorizer only (for operations on the registry rather than a repository).</summary>
    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken) =>
        authorizer.AuthorizeAsync(caller, action, resourceArn, cancellationToken);

    /// <summary>As above, for an operation on the registry as a whole (its registry policy applies).</summary>
    public ValueTask AuthorizeAsync(Caller caller, RegistryKey registry, string action, string resourceArn, CancellationToken cancellationToken) =>
        authorizer.AuthorizeAsync(caller, registry, action, resourceArn, cancellationToken);

    /// <summary>The ARN a registry-wide listing is authorised against.</summary>
    public static string RegistryArn(RegistryKey registry) => registry.RepositoriesArn;

    private async Task<Repository> UpdateAsync(Caller caller, RepositoryKey key, string action, Func<RepositorySettings, RepositorySettings> change, CancellationToken cancellationToken)
    {
        var repository = await resolver.GetAsync(caller, key, action, cancellationToken);
        var settings = change(repository.Settings);
        return await store.Repositories.UpdateSettingsAsync(repository.Id, settings, cancellationToken)
            ? repository with { Settings = settings }
            : throw RepositoryResolver.NameUnknown(key);
    }

    // AWS reserves the aws: prefix for its own tags; the model checks lengths.
    /// <summary>
    /// Validates <paramref name="policyText"/> as a repository (resource) policy; a refusal is ECR's one text
    /// for any policy it refuses (ECR-NOTES §2), the reason not given, at <paramref name="member"/>.
    /// </summary>
    public static void CheckRepositoryPolicy(string policyText, string member)
    {
        try
        {
            Policies.PolicyDocument.Parse(policyText, isResourcePolicy: true);
        }
        catch (Policies.PolicyFormatException)
        {
            throw WharfException.InvalidParameter(member, "Invalid repository policy provided");
        }
    }

    /// <summary>What is wrong with the first of <paramref name="tags"/> that breaks ECR's rules for resource tags (without a final stop), or null.</summary>
    public static string? TagProblem(IReadOnlyList<ResourceTag> tags)
    {
        foreach (var tag in tags)
        {
            if (TagKeyProblem(tag.Key) is { } problem)
            {
                return problem;
            }

            if (tag.Value.Length > 256)
            {
                return $"The value of tag '{tag.Key}' is {tag.Value.Length} characters; tag values can have a maximum length of 256 characters";
            }
        }

        return null;
    }

    private static string? TagKeyProblem(string key) =>
        key.Length is 0 or > 128 ? $"Tag key '{key}' is {key.Length} characters; tag keys must have 1 to 128 characters"
        : key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) ? $"Tag key '{key}' is invalid: the aws: prefix is reserved for AWS use"
        : null;

    internal static void CheckTags(IReadOnlyList<ResourceTag> tags)
    {
        if (TagProblem(tags) is { } problem)
        {
            throw new WharfException(WharfErrorCode.InvalidTagParameter, problem + ".");
        }
    }

    private static void CheckTagKey(string key)
    {
        if (TagKeyProblem(key) is { } problem)
        {
            throw new WharfException(WharfErrorCode.InvalidTagParameter, problem + ".");
        }
    }

    private static WharfException RegistryPolicyNotFound(RegistryKey registry) =>
        new(WharfErrorCode.RegistryPolicyNotFound, $"Registry policy does not exist in the registry with id '{registry.Account}'");

    private static WharfException PolicyNotFound(RepositoryKey key) =>
        new(WharfErrorCode.RepositoryPolicyNotFound, $"Repository policy does not exist for the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");

    internal static WharfException TooManyTags() => new(WharfErrorCode.TooManyTags);
}
