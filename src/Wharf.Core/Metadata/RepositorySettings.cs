using System.Text.RegularExpressions;

namespace Wharf.Core.Metadata;

/// <summary>ECR's <c>imageTagMutability</c>.</summary>
public enum TagMutability
{
    Mutable,
    Immutable,

    /// <summary>Every tag is immutable except those matching an exclusion filter.</summary>
    ImmutableWithExclusion,

    /// <summary>Every tag is mutable except those matching an exclusion filter.</summary>
    MutableWithExclusion,
}

/// <summary>
/// A repository's settings, set at creation and (except encryption) changed by their own calls.
/// </summary>
/// <param name="Mutability">Tag mutability.</param>
/// <param name="MutabilityExclusions">Wildcard filters (<c>*</c> matches any run) for the <c>*_WITH_EXCLUSION</c> modes.</param>
/// <param name="ScanOnPush">The repository-level scan-on-push flag.</param>
/// <param name="EncryptionType"><c>AES256</c>, <c>KMS</c> or <c>KMS_DSSE</c>.</param>
/// <param name="KmsKey">The KMS key for the KMS types, if given.</param>
public sealed record RepositorySettings(
    TagMutability Mutability,
    IReadOnlyList<string> MutabilityExclusions,
    bool ScanOnPush,
    string EncryptionType,
    string? KmsKey)
{
    public static RepositorySettings Default { get; } = new(TagMutability.Mutable, [], false, "AES256", null);

    /// <summary>True when <paramref name="tag"/>, once it exists, may not be overwritten.</summary>
    public bool IsImmutable(string tag) => Mutability switch
    {
        TagMutability.Immutable => true,
        TagMutability.ImmutableWithExclusion => !MutabilityExclusions.Any(f => WildcardMatches(f, tag)),
        TagMutability.MutableWithExclusion => MutabilityExclusions.Any(f => WildcardMatches(f, tag)),
        _ => false,
    };

    /// <summary>ECR's exclusion filters: <c>*</c> matches any run of characters, everything else itself.</summary>
    public static bool WildcardMatches(string filter, string value) =>
        Regex.IsMatch(
            value,
            "^" + Regex.Escape(filter).Replace(@"\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline,
            TimeSpan.FromMilliseconds(100));

    public bool Equals(RepositorySettings? other) =>
        other is not null && Mutability == other.Mutability && MutabilityExclusions.SequenceEqual(other.MutabilityExclusions, StringComparer.Ordinal)
        && ScanOnPush == other.ScanOnPush && EncryptionType == other.EncryptionType && KmsKey == other.KmsKey;

    public override int GetHashCode() => HashCode.Combine(Mutability, MutabilityExclusions.Count, ScanOnPush, EncryptionType, KmsKey);
}

/// <summary>ECR's names for <see cref="TagMutability"/> (the wire and the stored value).</summary>
public static class TagMutabilityNames
{
    public static string ToName(TagMutability value) => value switch
    {
        TagMutability.Immutable => "IMMUTABLE",
        TagMutability.ImmutableWithExclusion => "IMMUTABLE_WITH_EXCLUSION",
        TagMutability.MutableWithExclusion => "MUTABLE_WITH_EXCLUSION",
        _ => "MUTABLE",
    };

    public static TagMutability Parse(string name) => name switch
    {
        "IMMUTABLE" => TagMutability.Immutable,
        "IMMUTABLE_WITH_EXCLUSION" => TagMutability.ImmutableWithExclusion,
        "MUTABLE_WITH_EXCLUSION" => TagMutability.MutableWithExclusion,
        "MUTABLE" => TagMutability.Mutable,
        _ => throw new FormatException($"'{name}' is not an image tag mutability."),
    };

    /// <summary>The stored form of the exclusion filters (a JSON array of strings).</summary>
    public static string ExclusionsToJson(IReadOnlyList<string> filters) => System.Text.Json.JsonSerializer.Serialize(filters, Primitives.CoreJsonContext.Default.IReadOnlyListString);

    public static IReadOnlyList<string> ExclusionsFromJson(string json) =>
        json == "[]" ? [] : System.Text.Json.JsonSerializer.Deserialize(json, Primitives.CoreJsonContext.Default.StringArray) ?? [];
}
