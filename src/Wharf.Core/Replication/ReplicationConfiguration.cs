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
/// a Wharf extension, <c>wharfTagFilters</c> on the wire — the tags it applies to (wildcard filters,
/// <c>*</c> any run of characters, everything else itself; none: every image, tagged or not).
/// </summary>
/// <remarks>
/// With tag filters, a rule replicates an image only under its matching tags: pushing <c>latest</c> and
/// <c>release-1</c> on one image copies it tagged <c>release-1</c> only, so <c>latest</c> in the destination
/// never moves; an image pushed by digest alone (no tag) is not replicated by such a rule. A rule without
/// tag filters replicates every push with its tags, as ECR does.
/// </remarks>
public sealed record ReplicationRule(
    IReadOnlyList<ReplicationDestination> Destinations,
    IReadOnlyList<ReplicationRepositoryFilter> RepositoryFilters,
    IReadOnlyList<string>? TagFilters = null)
{
    public bool MatchesRepository(string repositoryName) =>
        RepositoryFilters.Count == 0 || RepositoryFilters.Any(f => f.Matches(repositoryName));

    /// <summary>Whether this rule replicates an image with <paramref name="tags"/>: always without tag filters, else when one tag matches.</summary>
    public bool MatchesTags(IReadOnlyList<string> tags) =>
        TagFilters is not { Count: > 0 } filters || tags.Any(t => filters.Any(f => RepositorySettings.WildcardMatches(f, t)));

    /// <summary>The tags of <paramref name="tags"/> this rule copies: all of them without tag filters, else the matching ones.</summary>
    public IEnumerable<string> TagsToCopy(IReadOnlyList<string> tags) =>
        TagFilters is not { Count: > 0 } filters ? tags : tags.Where(t => filters.Any(f => RepositorySettings.WildcardMatches(f, t)));
}

/// <summary>
/// A registry's replication configuration (ECR-NOTES §6), kept among the registry's settings. Validation
/// against the model and ECR's rules happens at the API edge (<see cref="ReplicationConfigurationParser"/>); this is the stored, valid form.
/// </summary>
public sealed record ReplicationConfiguration(IReadOnlyList<ReplicationRule> Rules)
{
    /// <summary>The registry setting that holds the configuration (beside ECR's account settings).</summary>
    public const string SettingName = "wharf:REPLICATION_CONFIGURATION";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, TypeInfoResolver = CoreJsonContext.Default };

    public static ReplicationConfiguration Empty { get; } = new([]);

    public static ReplicationConfiguration FromSetting(string? json) =>
        json is null ? Empty : JsonSerializer.Deserialize(json, Json.TypeInfo<ReplicationConfiguration>()) ?? Empty;

    public string ToSetting() => JsonSerializer.Serialize(this, Json.TypeInfo<ReplicationConfiguration>());

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

    /// <summary>
    /// The tags an image of <paramref name="repositoryName"/> with <paramref name="tags"/> carries into
    /// <paramref name="destination"/>: the union over the rules that send it there of what each copies
    /// (<see cref="ReplicationRule.TagsToCopy"/>), in the order given.
    /// </summary>
    public IReadOnlyList<string> TagsFor(string repositoryName, IReadOnlyList<string> tags, ReplicationDestination destination)
    {
        var copied = Rules.Where(r => r.Destinations.Contains(destination) && r.MatchesRepository(repositoryName) && r.MatchesTags(tags))
            .SelectMany(r => r.TagsToCopy(tags))
            .ToHashSet(StringComparer.Ordinal);
        return tags.Where(copied.Contains).ToList();
    }
}
