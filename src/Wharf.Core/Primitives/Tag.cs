using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Wharf.Core.Primitives;

/// <summary>An image tag with the OCI grammar <c>[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}</c>.</summary>
public sealed partial record Tag
{
    public const int MaxLength = 128;

    private Tag(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out Tag? tag)
    {
        tag = null;
        if (value is null || value.Length is 0 or > MaxLength || !Pattern().IsMatch(value))
        {
            return false;
        }

        tag = new Tag(value);
        return true;
    }

    public static Tag Parse(string value) =>
        TryParse(value, out var tag) ? tag : throw new FormatException($"'{value}' is not a valid tag.");

    public override string ToString() => Value;

    [GeneratedRegex("^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
