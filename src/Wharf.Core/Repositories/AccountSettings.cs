namespace Wharf.Core.Repositories;

/// <summary>
/// ECR's account settings (per account and region): their names, accepted values and defaults.
/// Wharf enables blob mounting by default — cross-repository mount is standard OCI — where ECR makes
/// it opt-in; <c>DISABLED</c> turns it off.
/// </summary>
public static class AccountSettings
{
    public const string BasicScanTypeVersion = "BASIC_SCAN_TYPE_VERSION";
    public const string RegistryPolicyScope = "REGISTRY_POLICY_SCOPE";
    public const string BlobMounting = "BLOB_MOUNTING";

    private static readonly Dictionary<string, (string Default, string[] Values)> Known = new(StringComparer.Ordinal)
    {
        [BasicScanTypeVersion] = ("AWS_NATIVE", ["AWS_NATIVE", "CLAIR"]),
        [RegistryPolicyScope] = ("V2", ["V1", "V2"]),
        [BlobMounting] = ("ENABLED", ["ENABLED", "DISABLED"]),
    };

    public static bool IsKnown(string name) => Known.ContainsKey(name);

    public static IReadOnlyList<string> ValuesOf(string name) => Known[name].Values;

    /// <summary>The setting's value: what was set, else its default.</summary>
    public static string Value(IReadOnlyDictionary<string, string> set, string name) =>
        set.TryGetValue(name, out var value) ? value : Known[name].Default;

    public static IReadOnlyCollection<string> Names => Known.Keys;
}
