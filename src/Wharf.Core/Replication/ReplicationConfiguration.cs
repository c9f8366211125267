using System.Text.Json;
using System.Text.Json.Serialization;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Replication;

/// <summary>A repository filter of a replication rule: ECR's only type, <c>PREFIX_MATCH</c> on the repository name.</summary>
public sealed record ReplicationRepositoryFilter(string Filter, string FilterType = "PREFIX_MATCH")
{
    public bool Matches(string repositoryName) => repositoryName.StartsWith(Filter, StringComparison.Ordinal);
}

/// <summary>
/// A replication rule: its destinations, the repositories it applies to (none: every repository), and —
/// a Wharf extension — the tags it applies to (wildcard filters, <c>*</c> any run; none: every image).
/// </summary>
public sealed record ReplicationRule(
    IReadOnlyList<ReplicationDestination> Destinations,
    IReadOnlyList<ReplicationRepositoryFilter> RepositoryFilters,
    IReadOnlyList<string>? TagFilters = null)
{
    public bool MatchesRepository(string repositoryName) =>
        RepositoryFilters.Count == 0 || RepositoryFilters.Any(f => f.Matches(repositoryName));

    /// <summary>The tags of <paramref name="tags"/> this rule replicates; an untagged image, or a rule without tag filters, keeps them all.</summary>
    public bool MatchesTags(IReadOnlyList<string> tags) =>
        TagFilters is not { Count: > 0 } filters || tags.Any(t => filters.Any(f => RepositorySettings.WildcardMatches(f, t)));
}

/// <summary>
/// A registry's replication configuration (ECR-NOTES §6), kept among the registry's settings. Validation
/// against the model and ECR's rules happens at the API edge; this is the stored, valid form.
/// </summary>
public sealed record ReplicationConfiguration(IReadOnlyList<ReplicationRule> Rules)
{
    /// <summary>The registry setting that holds the configuration (beside ECR's account settings).</summary>
    public const string SettingName = "wharf:REPLICATION_CONFIGURATION";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static ReplicationConfiguration Empty { get; } = new([]);

    public static ReplicationConfiguration FromSetting(string? json) =>
        json is null ? Empty : JsonSerializer.Deserialize<ReplicationConfiguration>(json, Json) ?? Empty;

    public string ToSetting() => JsonSerializer.Serialize(this, Json);

    /// <summary>The registry's configuration as stored among its settings, or the empty one.</summary>
    public static async Task<ReplicationConfiguration> LoadAsync(IRepositoryStore repositories, RegistryKey registry, CancellationToken cancellationToken) =>
        FromSetting((await repositories.GetRegistrySettingsAsync(registry, cancellationToken)).GetValueOrDefault(SettingName));

    /// <summary>
    /// Every distinct destination an image of <paramref name="repositoryName"/> with <paramref name="tags"/>
    /// is copied to, across all rules (ECR copies once per destination, however many rules name it).
    /// </summary>
    public IReadOnlyList<ReplicationDestination> DestinationsFor(string repositoryName, IReadOnlyList<string> tags) =>
        Rules.Where(r => r.MatchesRepository(repositoryName) && r.MatchesTags(tags))
            .SelectMany(r => r.Destinations)
            .Distinct()
            .ToList();
}
