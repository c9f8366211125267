namespace Wharf.Server.Public.Gallery;

/// <summary>
/// The badges ECR Public's gallery shows (ECR-NOTES §8): architectures <c>ARM</c>, <c>ARM 64</c>, <c>x86</c>,
/// <c>x86-64</c> and operating systems <c>Linux</c>, <c>Windows</c>. Catalog data may carry other values
/// (they are stored as given); the gallery neither shows nor filters by them.
/// </summary>
internal static class GalleryBadges
{
    public static readonly IReadOnlyList<string> Architectures = ["ARM", "ARM 64", "x86", "x86-64"];

    public static readonly IReadOnlyList<string> OperatingSystems = ["Linux", "Windows"];

    /// <summary>The supported values among <paramref name="values"/>, in the gallery's order.</summary>
    public static IReadOnlyList<string> Shown(IReadOnlyList<string> supported, IReadOnlyList<string> values) =>
        supported.Where(s => values.Contains(s, StringComparer.Ordinal)).ToList();

    /// <summary>The supported value a filter names (case aside), or null for none or an unsupported one.</summary>
    public static string? Filter(IReadOnlyList<string> supported, string? value) =>
        value is null ? null : supported.FirstOrDefault(s => string.Equals(s, value.Trim(), StringComparison.OrdinalIgnoreCase));
}
