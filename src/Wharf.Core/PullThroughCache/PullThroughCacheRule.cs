using System.Text.Json;
using System.Text.Json.Serialization;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// A pull-through cache rule (ECR-NOTES §7.2): repositories named under <see cref="EcrRepositoryPrefix"/>
/// are filled from <see cref="UpstreamRegistryUrl"/>, the name's rest appended to
/// <see cref="UpstreamRepositoryPrefix"/>. Prefixes are kept without their implied trailing <c>/</c>;
/// <c>ROOT</c> stands for "every repository" (ECR side) and "no prefix" (upstream side).
/// </summary>
/// <param name="EcrRepositoryPrefix">As given (ECR answers it so); <see cref="Key"/> identifies and matches it.</param>
/// <param name="UpstreamRegistryUrl">
/// As given: a host (<c>registry-1.docker.io</c>, HTTPS) or, as Wharf's extension, an <c>https://</c> or
/// (with <c>PullThroughCache:AllowInsecureUpstreams</c>) <c>http://</c> URL of any OCI registry.
/// </param>
/// <param name="UpstreamRegistry">ECR's <c>upstreamRegistry</c> enum value, or null for an upstream ECR does not list.</param>
/// <param name="CredentialArn">The Secrets Manager secret holding <c>username</c> and <c>accessToken</c>, or null (anonymous).</param>
/// <param name="CustomRoleArn">For <c>ecr</c> upstreams: the role assumed to pull from them.</param>
/// <param name="UpstreamRepositoryPrefix">As given; <c>ROOT</c> (the default) for none.</param>
/// <param name="CreatedAt">When the rule was created.</param>
/// <param name="UpdatedAt">When its credentials were last changed (its creation until then).</param>
public sealed record PullThroughCacheRule(
    string EcrRepositoryPrefix,
    string UpstreamRegistryUrl,
    string? UpstreamRegistry,
    string? CredentialArn,
    string? CustomRoleArn,
    string UpstreamRepositoryPrefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public const string Root = "ROOT";

    /// <summary>The prefix without its optional trailing <c>/</c>: <c>hub</c> and <c>hub/</c> are one rule.</summary>
    public static string KeyOf(string prefix) => prefix == Root ? Root : prefix.TrimEnd('/');

    [JsonIgnore]
    public string Key => KeyOf(EcrRepositoryPrefix);

    /// <summary>
    /// The upstream repository a local repository named <paramref name="name"/> caches, or null when the rule
    /// does not cover it (<c>hub</c> covers <c>hub/library/nginx</c>, not <c>hub</c> nor <c>hubble/x</c>).
    /// </summary>
    public string? UpstreamRepositoryFor(RepositoryName name)
    {
        string rest;
        if (Key == Root)
        {
            rest = name.Value;
        }
        else if (name.Value.StartsWith(Key + "/", StringComparison.Ordinal))
        {
            rest = name.Value[(Key.Length + 1)..];
        }
        else
        {
            return null;
        }

        var upstreamPrefix = KeyOf(UpstreamRepositoryPrefix);
        return upstreamPrefix == Root ? rest : upstreamPrefix + "/" + rest;
    }
}

/// <summary>
/// A registry's pull-through cache rules, kept as one registry setting (JSON) changed under the registry's
/// row lock (as creation templates are). Validation happens in the rules service; this is the stored, valid
/// form and the choice of a rule for a repository name.
/// </summary>
public sealed record PullThroughCacheRules(IReadOnlyList<PullThroughCacheRule> Rules)
{
    /// <summary>The registry setting that holds the rules.</summary>
    public const string SettingName = "wharf:PULL_THROUGH_CACHE_RULES";

    /// <summary>ECR's quota of rules per registry (ECR-NOTES §7.2).</summary>
    public const int MaxRules = 50;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = CoreJsonContext.Default,
    };

    public static PullThroughCacheRules Empty { get; } = new([]);

    public static PullThroughCacheRules FromSetting(string? json) =>
        json is null ? Empty : JsonSerializer.Deserialize(json, Json.TypeInfo<PullThroughCacheRules>()) ?? Empty;

    /// <summary>The setting's value; null (no setting) when there are no rules.</summary>
    public string? ToSetting() => Rules.Count == 0 ? null : JsonSerializer.Serialize(this, Json.TypeInfo<PullThroughCacheRules>());

    public static async Task<PullThroughCacheRules> LoadAsync(IRepositoryStore repositories, RegistryKey registry, CancellationToken cancellationToken) =>
        FromSetting((await repositories.GetRegistrySettingsAsync(registry, cancellationToken)).GetValueOrDefault(SettingName));

    /// <summary>The rule with this ECR prefix (trailing <c>/</c> or not), or null.</summary>
    public PullThroughCacheRule? Find(string ecrRepositoryPrefix)
    {
        var key = PullThroughCacheRule.KeyOf(ecrRepositoryPrefix);
        return Rules.FirstOrDefault(r => r.Key == key);
    }

    public PullThroughCacheRules With(PullThroughCacheRule rule) =>
        new([.. Rules.Where(r => r.Key != rule.Key).Append(rule).OrderBy(r => r.Key, StringComparer.Ordinal)]);

    public PullThroughCacheRules Without(string ecrRepositoryPrefix)
    {
        var key = PullThroughCacheRule.KeyOf(ecrRepositoryPrefix);
        return new([.. Rules.Where(r => r.Key != key)]);
    }

    /// <summary>The rule for a repository named <paramref name="name"/> and the upstream repository it caches: the longest covering prefix, else <c>ROOT</c>; null when none covers it.</summary>
    public (PullThroughCacheRule Rule, string UpstreamRepository)? Match(RepositoryName name)
    {
        var rule = Rules.Where(r => r.Key != PullThroughCacheRule.Root && r.UpstreamRepositoryFor(name) is not null).MaxBy(r => r.Key.Length)
            ?? Rules.FirstOrDefault(r => r.Key == PullThroughCacheRule.Root);
        return rule?.UpstreamRepositoryFor(name) is { } upstream ? (rule, upstream) : null;
    }
}
