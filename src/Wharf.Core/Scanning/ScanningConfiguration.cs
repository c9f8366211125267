using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wharf.Core.Scanning;

/// <summary>A repository filter of a scanning rule: <c>WILDCARD</c>, where a filter without <c>*</c> matches names containing it.</summary>
public sealed record ScanningFilter(string Filter, string FilterType = "WILDCARD")
{
    public bool Matches(string repositoryName) =>
        Filter.Contains('*', StringComparison.Ordinal)
            ? Security.Policies.Wildcard.Matches(Filter, repositoryName, ignoreCase: false)
            : repositoryName.Contains(Filter, StringComparison.Ordinal);
}

/// <summary>A scanning rule: a frequency (<c>SCAN_ON_PUSH</c>, <c>CONTINUOUS_SCAN</c>, <c>MANUAL</c>) for the repositories its filters match.</summary>
public sealed record ScanningRule(string ScanFrequency, IReadOnlyList<ScanningFilter> RepositoryFilters);

/// <summary>How one repository is scanned under the registry's configuration.</summary>
public sealed record RepositoryScanning(string ScanFrequency, bool ScanOnPush, IReadOnlyList<ScanningFilter> AppliedFilters);

/// <summary>
/// ECR's registry scanning configuration (ECR-NOTES §5.2): a scan type (<c>BASIC</c>, the default, or
/// <c>ENHANCED</c>) and up to two rules. <see cref="For"/> decides a repository's frequency: with
/// <c>BASIC</c>, <c>SCAN_ON_PUSH</c> when a rule's filter or the repository's own (deprecated)
/// <c>scanOnPush</c> says so, else <c>MANUAL</c>; with <c>ENHANCED</c>, <c>CONTINUOUS_SCAN</c> wins over
/// <c>SCAN_ON_PUSH</c>, and a repository no rule matches is not scanned (<c>MANUAL</c>).
/// </summary>
public sealed record ScanningConfiguration(string ScanType, IReadOnlyList<ScanningRule> Rules)
{
    /// <summary>The registry setting that holds the configuration (beside ECR's account settings).</summary>
    public const string SettingName = "wharf:SCANNING_CONFIGURATION";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never, TypeInfoResolver = Primitives.CoreJsonContext.Default };

    public static ScanningConfiguration Default { get; } = new("BASIC", []);

    public static ScanningConfiguration FromSetting(string? json) =>
        json is null ? Default : JsonSerializer.Deserialize(json, Primitives.JsonTypes.TypeInfo<ScanningConfiguration>(Json)) ?? Default;

    public string ToSetting() => JsonSerializer.Serialize(this, Primitives.JsonTypes.TypeInfo<ScanningConfiguration>(Json));

    /// <summary>The registry's configuration as stored among its settings, or the default.</summary>
    public static async Task<ScanningConfiguration> LoadAsync(Metadata.IRepositoryStore repositories, Primitives.RegistryKey registry, CancellationToken cancellationToken) =>
        FromSetting((await repositories.GetRegistrySettingsAsync(registry, cancellationToken)).GetValueOrDefault(SettingName));

    public RepositoryScanning For(string repositoryName, bool repositoryScanOnPush)
    {
        List<ScanningFilter> Matching(string frequency) =>
            Rules.Where(r => r.ScanFrequency == frequency).SelectMany(r => r.RepositoryFilters).Where(f => f.Matches(repositoryName)).ToList();

        if (ScanType == "ENHANCED")
        {
            var continuous = Matching("CONTINUOUS_SCAN");
            if (continuous.Count > 0)
            {
                return new RepositoryScanning("CONTINUOUS_SCAN", false, continuous);
            }
        }

        var onPush = Matching("SCAN_ON_PUSH");
        return onPush.Count > 0 ? new RepositoryScanning("SCAN_ON_PUSH", true, onPush)
            : ScanType == "BASIC" && repositoryScanOnPush ? new RepositoryScanning("SCAN_ON_PUSH", true, [])
            : new RepositoryScanning("MANUAL", false, []);
    }
}
