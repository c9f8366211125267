using System.Text.Json;
using System.Text.Json.Serialization;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Repositories;

/// <summary>ECR's names for <see cref="CreationPurpose"/> (<c>appliedFor</c> on the wire).</summary>
public static class CreationPurposeNames
{
    public static string ToName(CreationPurpose purpose) => purpose switch
    {
        CreationPurpose.Replication => "REPLICATION",
        CreationPurpose.PullThroughCache => "PULL_THROUGH_CACHE",
        _ => "CREATE_ON_PUSH",
    };

    public static CreationPurpose Parse(string name) => name switch
    {
        "REPLICATION" => CreationPurpose.Replication,
        "PULL_THROUGH_CACHE" => CreationPurpose.PullThroughCache,
        "CREATE_ON_PUSH" => CreationPurpose.CreateOnPush,
        _ => throw new FormatException($"'{name}' is not a repository creation template purpose."),
    };
}

/// <summary>
/// A repository creation template (ECR-NOTES §7.4): the settings and policies a repository created for
/// one of <see cref="AppliedFor"/> starts with, when its name falls under <see cref="Prefix"/>. The prefix
/// is kept as it was given (ECR answers it so); <see cref="Key"/> is what identifies and matches it.
/// </summary>
public sealed record CreationTemplate(
    string Prefix,
    string? Description,
    string EncryptionType,
    string? KmsKey,
    IReadOnlyList<ResourceTag> ResourceTags,
    TagMutability Mutability,
    IReadOnlyList<string> MutabilityExclusions,
    string? RepositoryPolicy,
    string? LifecyclePolicy,
    IReadOnlyList<CreationPurpose> AppliedFor,
    string? CustomRoleArn,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The prefix of the template for every repository no other template covers.</summary>
    public const string Root = "ROOT";

    /// <summary>The prefix without its optional trailing <c>/</c>: <c>prod</c> and <c>prod/</c> are one template.</summary>
    [JsonIgnore]
    public string Key => KeyOf(Prefix);

    public static string KeyOf(string prefix) => prefix == Root ? Root : prefix.TrimEnd('/');

    /// <summary>
    /// True when a repository named <paramref name="repositoryName"/> falls under the prefix: a trailing
    /// <c>/</c> is implied, so <c>prod</c> covers <c>prod/app</c> but neither <c>prod</c> nor <c>production/app</c>.
    /// </summary>
    public bool Covers(string repositoryName) =>
        Key == Root || repositoryName.StartsWith(Key + "/", StringComparison.Ordinal);

    /// <summary>What a repository created through this template starts with (scan on push is not a template setting).</summary>
    public RepositoryCreation ToCreation() => new(
        new RepositorySettings(Mutability, MutabilityExclusions, false, EncryptionType, KmsKey),
        ResourceTags,
        RepositoryPolicy,
        LifecyclePolicy);
}

/// <summary>
/// A registry's creation templates, kept as one registry setting (JSON) and changed under the registry's
/// row lock, so concurrent changes do not lose each other. Validation happens in
/// <see cref="CreationTemplateService"/>; this is the stored, valid form and the choice of a template.
/// </summary>
public sealed record CreationTemplates(IReadOnlyList<CreationTemplate> Templates)
{
    /// <summary>The registry setting that holds the templates (beside ECR's account settings).</summary>
    public const string SettingName = "wharf:REPOSITORY_CREATION_TEMPLATES";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // The enums a template holds, by name as the non-generic converter wrote them (Native AOT needs one per type).
        Converters = { new JsonStringEnumConverter<TagMutability>(), new JsonStringEnumConverter<CreationPurpose>() },
        TypeInfoResolver = CoreJsonContext.Default,
    };

    public static CreationTemplates Empty { get; } = new([]);

    public static CreationTemplates FromSetting(string? json) =>
        json is null ? Empty : JsonSerializer.Deserialize(json, Json.TypeInfo<CreationTemplates>()) ?? Empty;

    /// <summary>The setting's value; null (no setting) when there are no templates.</summary>
    public string? ToSetting() => Templates.Count == 0 ? null : JsonSerializer.Serialize(this, Json.TypeInfo<CreationTemplates>());

    public static async Task<CreationTemplates> LoadAsync(IRepositoryStore repositories, RegistryKey registry, CancellationToken cancellationToken) =>
        FromSetting((await repositories.GetRegistrySettingsAsync(registry, cancellationToken)).GetValueOrDefault(SettingName));

    /// <summary>The template with this prefix (trailing <c>/</c> or not), or null.</summary>
    public CreationTemplate? Find(string prefix)
    {
        var key = CreationTemplate.KeyOf(prefix);
        return Templates.FirstOrDefault(t => t.Key == key);
    }

    /// <summary>These templates with <paramref name="template"/> in place of the one with its prefix, or added; ordered by prefix.</summary>
    public CreationTemplates With(CreationTemplate template) =>
        new([.. Templates.Where(t => t.Key != template.Key).Append(template).OrderBy(t => t.Key, StringComparer.Ordinal)]);

    public CreationTemplates Without(string prefix)
    {
        var key = CreationTemplate.KeyOf(prefix);
        return new([.. Templates.Where(t => t.Key != key)]);
    }

    /// <summary>
    /// The template a repository created for <paramref name="purpose"/> is made with: of the templates that
    /// apply to the purpose and cover the name, the longest prefix (<c>prod/team</c> over <c>prod</c> for
    /// <c>prod/team/app</c>), else <c>ROOT</c> if it applies to the purpose; null when none does.
    /// </summary>
    public CreationTemplate? For(string repositoryName, CreationPurpose purpose)
    {
        var candidates = Templates.Where(t => t.AppliedFor.Contains(purpose) && t.Covers(repositoryName)).ToList();
        return candidates.Where(t => t.Key != CreationTemplate.Root).MaxBy(t => t.Key.Length)
            ?? candidates.FirstOrDefault(t => t.Key == CreationTemplate.Root);
    }
}
