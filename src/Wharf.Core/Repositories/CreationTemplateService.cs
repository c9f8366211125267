using System.Text.RegularExpressions;
using Wharf.Core.Errors;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Repositories;

/// <summary>
/// The members of a <c>Create</c>/<c>UpdateRepositoryCreationTemplate</c> call, past the model's checks;
/// null is "not given" (an update keeps the template's value), an empty text clears. Encryption and tag
/// mutability each come whole: <see cref="EncryptionType"/> with <see cref="KmsKey"/>, <see cref="Mutability"/>
/// with <see cref="MutabilityExclusions"/>.
/// </summary>
public sealed record CreationTemplateInput(
    string? Description = null,
    string? EncryptionType = null,
    string? KmsKey = null,
    IReadOnlyList<ResourceTag>? ResourceTags = null,
    TagMutability? Mutability = null,
    IReadOnlyList<string>? MutabilityExclusions = null,
    string? RepositoryPolicy = null,
    string? LifecyclePolicy = null,
    IReadOnlyList<CreationPurpose>? AppliedFor = null,
    string? CustomRoleArn = null);

/// <summary>
/// ECR's repository creation template operations: authorised on <c>*</c> (the template actions have no
/// resource type), validated as ECR validates what a template carries (a resource policy as
/// <c>SetRepositoryPolicy</c>, a lifecycle policy as <c>PutLifecyclePolicy</c>), and kept in one registry
/// setting changed under the registry's row lock.
/// </summary>
public sealed partial class CreationTemplateService(IMetadataStore store, IAccessAuthorizer authorizer, TimeProvider time)
{
    /// <summary>
    /// Wharf's bound on templates per registry. ECR documents no quota for templates, but the model lists
    /// <c>LimitExceededException</c>; the bound keeps the one setting that holds them (read on each
    /// creation) small.
    /// </summary>
    public const int MaxTemplates = 100;

    private enum Change
    {
        Done,
        Exists,
        Full,
    }

    public async Task<CreationTemplate> CreateAsync(Caller caller, RegistryKey registry, string prefix, CreationTemplateInput input, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.CreateRepositoryCreationTemplate, "*", cancellationToken);
        Validate(registry, input);
        var now = time.GetUtcNow();
        var template = Merge(new CreationTemplate(prefix, null, "AES256", null, [], TagMutability.Mutable, [], null, null, [], null, now, now), input, now);
        var change = await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            CreationTemplates.SettingName,
            current =>
            {
                var templates = CreationTemplates.FromSetting(current);
                return templates.Find(prefix) is not null ? (current, Change.Exists)
                    : templates.Templates.Count >= MaxTemplates ? (current, Change.Full)
                    : (templates.With(template).ToSetting(), Change.Done);
            },
            cancellationToken);
        return change switch
        {
            Change.Exists => throw new WharfException(
                WharfErrorCode.TemplateAlreadyExists,
                $"The repository creation template with prefix '{prefix}' already exists in the registry with id '{registry.Account}'"),
            Change.Full => throw new WharfException(
                WharfErrorCode.TemplateLimitExceeded,
                $"The registry with id '{registry.Account}' already has the maximum of {MaxTemplates} repository creation templates"),
            _ => template,
        };
    }

    /// <summary>
    /// The registry's templates ordered by prefix, those named by <paramref name="prefixes"/> (all when
    /// none; a prefix without a template is left out), after the prefix <paramref name="after"/>, at most
    /// <paramref name="limit"/>.
    /// </summary>
    public async Task<IReadOnlyList<CreationTemplate>> DescribeAsync(
        Caller caller, RegistryKey registry, IReadOnlyList<string> prefixes, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DescribeRepositoryCreationTemplates, "*", cancellationToken);
        var keys = prefixes.Select(CreationTemplate.KeyOf).ToHashSet(StringComparer.Ordinal);
        return (await CreationTemplates.LoadAsync(store.Repositories, registry, cancellationToken)).Templates
            .Where(t => keys.Count == 0 || keys.Contains(t.Key))
            .Where(t => after is null || string.CompareOrdinal(t.Key, after) > 0)
            .Take(limit)
            .ToList();
    }

    /// <summary>Changes the members <paramref name="input"/> gives; the others keep their values.</summary>
    public async Task<CreationTemplate> UpdateAsync(Caller caller, RegistryKey registry, string prefix, CreationTemplateInput input, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.UpdateRepositoryCreationTemplate, "*", cancellationToken);
        Validate(registry, input);
        var now = time.GetUtcNow();
        return await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            CreationTemplates.SettingName,
            current =>
            {
                var templates = CreationTemplates.FromSetting(current);
                if (templates.Find(prefix) is not { } existing)
                {
                    return (current, (CreationTemplate?)null);
                }

                var updated = Merge(existing, input, now);
                return (templates.With(updated).ToSetting(), updated);
            },
            cancellationToken) ?? throw NotFound(registry, prefix);
    }

    /// <summary>Deletes the template; returns it as it was.</summary>
    public async Task<CreationTemplate> DeleteAsync(Caller caller, RegistryKey registry, string prefix, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DeleteRepositoryCreationTemplate, "*", cancellationToken);
        return await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            CreationTemplates.SettingName,
            current =>
            {
                var templates = CreationTemplates.FromSetting(current);
                return templates.Find(prefix) is { } existing ? (templates.Without(prefix).ToSetting(), existing) : (current, (CreationTemplate?)null);
            },
            cancellationToken) ?? throw NotFound(registry, prefix);
    }

    private static CreationTemplate Merge(CreationTemplate template, CreationTemplateInput input, DateTimeOffset now) => template with
    {
        Description = input.Description is { } description ? Blank(description) : template.Description,
        EncryptionType = input.EncryptionType ?? template.EncryptionType,
        KmsKey = input.EncryptionType is not null ? Blank(input.KmsKey) : template.KmsKey,
        ResourceTags = input.ResourceTags is { } tags
            ? [.. tags.GroupBy(t => t.Key, StringComparer.Ordinal).Select(g => g.Last()).OrderBy(t => t.Key, StringComparer.Ordinal)]
            : template.ResourceTags,
        Mutability = input.Mutability ?? template.Mutability,
        MutabilityExclusions = input.Mutability is not null ? input.MutabilityExclusions ?? [] : template.MutabilityExclusions,
        RepositoryPolicy = input.RepositoryPolicy is { } policy ? Blank(policy) : template.RepositoryPolicy,
        LifecyclePolicy = input.LifecyclePolicy is { } lifecycle ? Blank(lifecycle) : template.LifecyclePolicy,
        AppliedFor = input.AppliedFor is { } purposes ? [.. purposes.Distinct()] : template.AppliedFor,
        CustomRoleArn = input.CustomRoleArn is { } role ? Blank(role) : template.CustomRoleArn,
        UpdatedAt = now,
    };

    private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;

    /// <summary>ECR's checks of what a template carries, beyond the model's (types, lengths, patterns, enums).</summary>
    private static void Validate(RegistryKey registry, CreationTemplateInput input)
    {
        if (input.AppliedFor is { Count: 0 })
        {
            throw Invalid("appliedFor", "Member must have length greater than or equal to 1");
        }

        if (Blank(input.KmsKey) is not null && input.EncryptionType == "AES256")
        {
            throw Invalid("encryptionConfiguration.kmsKey", "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE");
        }

        if (input.ResourceTags is { } tags)
        {
            CheckTags(tags);
        }

        if (Blank(input.RepositoryPolicy) is { } policy)
        {
            RepositoryService.CheckRepositoryPolicy(policy, "repositoryPolicy");
        }

        if (Blank(input.LifecyclePolicy) is { } lifecycle)
        {
            LifecycleService.Parse(lifecycle);
        }

        // ECR assumes the role to create repositories, so it must be a role of the registry's own account.
        // Wharf assumes nothing (it creates repositories itself) but keeps ECR's rule for the value.
        if (Blank(input.CustomRoleArn) is { } role)
        {
            CheckRoleArn(registry, role);
        }
    }

    /// <summary>ECR's rule for a <c>customRoleArn</c> (templates, pull-through cache rules): a role of the registry's own account.</summary>
    internal static void CheckRoleArn(RegistryKey registry, string role)
    {
        if (RoleArn().Match(role) is not { Success: true } match || match.Groups[1].Value != registry.Account.Value)
        {
            throw Invalid("customRoleArn", $"must be the ARN of an IAM role in the account of the registry ({registry.Account})");
        }
    }

    // A template's tags become the repository's: the rules of repository tags, reported as the
    // InvalidParameterException the template operations declare.
    private static void CheckTags(IReadOnlyList<ResourceTag> tags)
    {
        if (RepositoryService.TagProblem(tags) is { } problem)
        {
            throw Invalid("resourceTags", problem);
        }

        if (tags.Select(t => t.Key).Distinct(StringComparer.Ordinal).Count() > RepositoryService.MaxResourceTags)
        {
            throw Invalid("resourceTags", $"A repository can have at most {RepositoryService.MaxResourceTags} tags");
        }
    }

    private static WharfException Invalid(string member, string constraint) => WharfException.InvalidParameter(member, constraint);

    private static WharfException NotFound(RegistryKey registry, string prefix) =>
        new(WharfErrorCode.TemplateNotFound, $"The repository creation template with prefix '{prefix}' does not exist in the registry with id '{registry.Account}'");

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex RoleArn();
}
