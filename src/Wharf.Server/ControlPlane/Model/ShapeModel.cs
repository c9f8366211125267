using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Wharf.Server.ControlPlane.Model;

/// <summary>
/// One shape of the model with the constraints the validator checks: its type, required members,
/// member shapes, min/max (a length for strings, blobs, lists and maps; a value for numbers), pattern and enum.
/// </summary>
internal sealed class ShapeModel
{
    private readonly Lazy<Regex?> regex;

    private ShapeModel(string name, string type)
    {
        Name = name;
        Type = type;
        regex = new Lazy<Regex?>(() => Pattern is null
            ? null
            : new Regex($"^(?:{Pattern})\\z", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)));
    }

    public string Name { get; }

    /// <summary><c>structure</c>, <c>string</c>, <c>integer</c>, <c>long</c>, <c>double</c>, <c>boolean</c>, <c>list</c>, <c>map</c>, <c>timestamp</c> or <c>blob</c>.</summary>
    public string Type { get; }

    /// <summary>Members in model order, name → shape name.</summary>
    public IReadOnlyList<(string Name, string Shape)> Members { get; private init; } = [];

    public IReadOnlySet<string> Required { get; private init; } = new HashSet<string>();

    /// <summary>A list's member shape, a map's value shape.</summary>
    public string? Element { get; private init; }

    public string? MapKey { get; private init; }

    public decimal? Min { get; private init; }

    public decimal? Max { get; private init; }

    /// <summary>The pattern exactly as the model writes it (a Java regex the value must match whole).</summary>
    public string? Pattern { get; private init; }

    public IReadOnlyList<string>? Enum { get; private init; }

    /// <summary>The compiled pattern (compiled on first use; the model's patterns all compile in .NET, a test checks).</summary>
    public Regex? Regex => regex.Value;

    public static ShapeModel Parse(string name, JsonElement json)
    {
        var members = new List<(string, string)>();
        if (json.TryGetProperty("members", out var m))
        {
            foreach (var member in m.EnumerateObject())
            {
                members.Add((member.Name, member.Value.GetProperty("shape").GetString()!));
            }
        }

        return new ShapeModel(name, json.GetProperty("type").GetString()!)
        {
            Members = members,
            Required = json.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet(StringComparer.Ordinal) : new HashSet<string>(),
            Element = json.TryGetProperty("member", out var e) ? e.GetProperty("shape").GetString()
                : json.TryGetProperty("value", out var v) ? v.GetProperty("shape").GetString() : null,
            MapKey = json.TryGetProperty("key", out var k) ? k.GetProperty("shape").GetString() : null,
            Min = json.TryGetProperty("min", out var min) ? min.GetDecimal() : null,
            Max = json.TryGetProperty("max", out var max) ? max.GetDecimal() : null,
            Pattern = json.TryGetProperty("pattern", out var p) ? p.GetString() : null,
            Enum = json.TryGetProperty("enum", out var en) ? en.EnumerateArray().Select(x => x.GetString()!).ToArray() : null,
        };
    }

    public static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
