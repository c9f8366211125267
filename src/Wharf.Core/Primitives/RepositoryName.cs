using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Wharf.Core.Primitives;

/// <summary>
/// A repository name with ECR's rules: 2–256 characters, lowercase, <c>/</c>-separated components,
/// separators <c>.</c>, <c>_</c>, <c>__</c> and runs of <c>-</c> (botocore <c>RepositoryName</c>).
/// </summary>
public sealed partial record RepositoryName
{
    public const int MinLength = 2;
    public const int MaxLength = 256;

    private RepositoryName(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out RepositoryName? name)
    {
        name = null;
        if (value is null || value.Length is < MinLength or > MaxLength || !Pattern().IsMatch(value))
        {
            return false;
        }

        name = new RepositoryName(value);
        return true;
    }

    public static RepositoryName Parse(string value) =>
        TryParse(value, out var name) ? name : throw new FormatException($"'{value}' is not a valid repository name.");

    /// <summary>The pattern as ECR's service model writes it (for error messages).</summary>
    public const string PatternText = @"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*";

    public override string ToString() => Value;

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
