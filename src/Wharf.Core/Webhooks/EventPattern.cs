using System.Text.Json;

namespace Wharf.Core.Webhooks;

/// <summary>
/// An EventBridge event pattern (docs/operations.md "Webhooks"): an object whose keys name fields of the
/// event (<c>source</c>, <c>detail-type</c>, <c>account</c>, <c>region</c>, <c>detail</c> and its fields) and
/// whose leaves are arrays of alternatives — exact values, or one of the filters <c>prefix</c>,
/// <c>suffix</c>, <c>equals-ignore-case</c>, <c>anything-but</c>, <c>exists</c> and <c>numeric</c>. Every key
/// must match (and), any alternative of a leaf may (or); an event field that is an array matches when any
/// of its elements does. Parsed once, bounded in size and depth, and refused with a sentence that names the
/// offending field.
/// </summary>
public sealed class EventPattern
{
    /// <summary>The longest pattern taken, in characters (EventBridge's own limit is of this order).</summary>
    public const int MaxLength = 8192;

    /// <summary>How deeply fields may nest (<c>detail</c> is depth 2).</summary>
    public const int MaxDepth = 6;

    /// <summary>The most alternatives, over all the leaves.</summary>
    public const int MaxValues = 256;

    private static readonly string[] Filters = ["prefix", "suffix", "equals-ignore-case", "anything-but", "exists", "numeric"];

    private readonly FieldSet root;

    private EventPattern(string text, FieldSet root) => (Text, this.root) = (text, root);

    /// <summary>The pattern as given.</summary>
    public string Text { get; }

    /// <summary>The pattern, or throws <see cref="EventPatternException"/> saying what is wrong with it.</summary>
    public static EventPattern Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
        {
            throw new EventPatternException($"the event pattern is {text.Length} characters long; at most {MaxLength} are taken");
        }

        JsonDocument document;
        try
        {
            // Each level of the pattern is an object, a leaf adds an array and a filter one more object.
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxDepth + 3 });
        }
        catch (JsonException e)
        {
            throw new EventPatternException(e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase)
                ? $"the event pattern nests deeper than {MaxDepth} fields"
                : $"the event pattern is not JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.EnumerateObject().Any())
            {
                throw new EventPatternException("the event pattern must be a JSON object with at least one field, such as {\"source\":[\"aws.ecr\"]}");
            }

            var values = 0;
            return new EventPattern(text, ParseObject(document.RootElement, string.Empty, 1, ref values));
        }
    }

    /// <summary>True when <paramref name="evt"/> (an event's JSON) matches.</summary>
    public bool Matches(JsonElement evt) => root.Matches(evt, present: evt.ValueKind == JsonValueKind.Object);

    private static FieldSet ParseObject(JsonElement element, string path, int depth, ref int values)
    {
        if (depth > MaxDepth)
        {
            throw new EventPatternException($"the event pattern nests deeper than {MaxDepth} fields at {path}");
        }

        var fields = new List<(string Name, Node Node)>();
        foreach (var property in element.EnumerateObject())
        {
            var at = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
            fields.Add((property.Name, property.Value.ValueKind switch
            {
                JsonValueKind.Object => ParseObject(property.Value, at, depth + 1, ref values),
                JsonValueKind.Array => ParseLeaf(property.Value, at, ref values),
                _ => throw new EventPatternException($"the event pattern's {at} must be an array of values (such as [\"PUSH\"]) or an object of fields"),
            }));
        }

        return new FieldSet(fields);
    }

    private static Leaf ParseLeaf(JsonElement array, string path, ref int values)
    {
        if (array.GetArrayLength() == 0)
        {
            throw new EventPatternException($"the event pattern's {path} is an empty array, which matches nothing; list at least one value");
        }

        var matchers = new List<Matcher>();
        foreach (var item in array.EnumerateArray())
        {
            if (++values > MaxValues)
            {
                throw new EventPatternException($"the event pattern has more than {MaxValues} values");
            }

            matchers.Add(item.ValueKind switch
            {
                JsonValueKind.Object => ParseFilter(item, path),
                JsonValueKind.Array => throw new EventPatternException($"the event pattern's {path} holds an array inside an array; list the values in one array"),
                _ => LiteralOf(item),
            });
        }

        return new Leaf(matchers);
    }

    private static Matcher ParseFilter(JsonElement filter, string path)
    {
        var properties = filter.EnumerateObject().ToList();
        if (properties.Count != 1)
        {
            throw new EventPatternException($"a filter in the event pattern's {path} must have exactly one operator ({string.Join(", ", Filters)})");
        }

        var (name, value) = (properties[0].Name, properties[0].Value);
        return name switch
        {
            "prefix" => new Prefix(TextOf(value, path, name)),
            "suffix" => new Suffix(TextOf(value, path, name)),
            "equals-ignore-case" => new IgnoreCase(TextOf(value, path, name)),
            "exists" => value.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? new Exists(value.GetBoolean())
                : throw new EventPatternException($"\"exists\" in the event pattern's {path} takes true or false"),
            "numeric" => ParseNumeric(value, path),
            "anything-but" => ParseAnythingBut(value, path),
            _ => throw new EventPatternException($"the event pattern's {path} uses the unknown operator \"{name}\"; use one of {string.Join(", ", Filters)}"),
        };
    }

    private static string TextOf(JsonElement value, string path, string filter) =>
        value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new EventPatternException($"\"{filter}\" in the event pattern's {path} takes a string");

    private static AnythingBut ParseAnythingBut(JsonElement value, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String or JsonValueKind.Number:
                return new AnythingBut([LiteralOf(value)]);
            case JsonValueKind.Array when value.GetArrayLength() > 0
                && value.EnumerateArray().All(v => v.ValueKind is JsonValueKind.String or JsonValueKind.Number):
                return new AnythingBut([.. value.EnumerateArray().Select(LiteralOf)]);
            case JsonValueKind.Object when value.EnumerateObject().ToList() is [{ Name: "prefix" or "suffix" } only]:
                var text = TextOf(only.Value, path, $"anything-but {only.Name}");
                return new AnythingBut([only.Name == "prefix" ? new Prefix(text) : new Suffix(text)]);
            default:
                throw new EventPatternException(
                    $"\"anything-but\" in the event pattern's {path} takes a string, a number, a non-empty array of them, or {{\"prefix\": \"…\"}} or {{\"suffix\": \"…\"}}");
        }
    }

    private static Numeric ParseNumeric(JsonElement value, string path)
    {
        var problem = $"\"numeric\" in the event pattern's {path} takes one or two comparisons, such as [\">\", 0, \"<=\", 5]";
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is not (2 or 4))
        {
            throw new EventPatternException(problem);
        }

        var items = value.EnumerateArray().ToList();
        var comparisons = new List<(string, double)>();
        for (var i = 0; i < items.Count; i += 2)
        {
            if (items[i].ValueKind != JsonValueKind.String || items[i].GetString() is not ("<" or "<=" or "=" or ">" or ">=")
                || items[i + 1].ValueKind != JsonValueKind.Number)
            {
                throw new EventPatternException(problem);
            }

            comparisons.Add((items[i].GetString()!, items[i + 1].GetDouble()));
        }

        return new Numeric(comparisons);
    }

    private static Literal LiteralOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => new Literal(value.ValueKind, value.GetString(), 0),
        JsonValueKind.Number => new Literal(value.ValueKind, null, value.GetDouble()),
        _ => new Literal(value.ValueKind, null, 0),
    };

    private abstract class Node
    {
        /// <summary>Matches <paramref name="value"/>, or the field's absence when <paramref name="present"/> is false.</summary>
        public abstract bool Matches(JsonElement value, bool present);
    }

    private sealed class FieldSet(List<(string Name, Node Node)> fields) : Node
    {
        public override bool Matches(JsonElement value, bool present)
        {
            foreach (var (name, node) in fields)
            {
                JsonElement field = default;
                var found = present && value.ValueKind == JsonValueKind.Object && value.TryGetProperty(name, out field);
                if (!node.Matches(field, found))
                {
                    return false;
                }
            }

            return true;
        }
    }

    private sealed class Leaf(List<Matcher> matchers) : Node
    {
        public override bool Matches(JsonElement value, bool present)
        {
            if (!present)
            {
                return matchers.Any(m => m is Exists { Expected: false });
            }

            if (value.ValueKind == JsonValueKind.Array)
            {
                return matchers.Any(m => m is Exists { Expected: true })
                    || value.EnumerateArray().Any(element => matchers.Any(m => m.Matches(element)));
            }

            return matchers.Any(m => m.Matches(value));
        }
    }

    private abstract record Matcher
    {
        public abstract bool Matches(JsonElement value);
    }

    private sealed record Literal(JsonValueKind Kind, string? Text, double Number) : Matcher
    {
        public override bool Matches(JsonElement value) => Kind switch
        {
            JsonValueKind.String => value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), Text, StringComparison.Ordinal),
            JsonValueKind.Number => value.ValueKind == JsonValueKind.Number && value.GetDouble() == Number,
            _ => value.ValueKind == Kind,
        };
    }

    private sealed record Prefix(string Start) : Matcher
    {
        public override bool Matches(JsonElement value) =>
            value.ValueKind == JsonValueKind.String && value.GetString()!.StartsWith(Start, StringComparison.Ordinal);
    }

    private sealed record Suffix(string End) : Matcher
    {
        public override bool Matches(JsonElement value) =>
            value.ValueKind == JsonValueKind.String && value.GetString()!.EndsWith(End, StringComparison.Ordinal);
    }

    private sealed record IgnoreCase(string Expected) : Matcher
    {
        public override bool Matches(JsonElement value) =>
            value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), Expected, StringComparison.OrdinalIgnoreCase);
    }

    private sealed record Exists(bool Expected) : Matcher
    {
        // Reached only for a present field (absence is the leaf's business).
        public override bool Matches(JsonElement value) => Expected;
    }

    private sealed record AnythingBut(List<Matcher> Excluded) : Matcher
    {
        public override bool Matches(JsonElement value) =>
            value.ValueKind is JsonValueKind.String or JsonValueKind.Number && !Excluded.Any(m => m.Matches(value));
    }

    private sealed record Numeric(List<(string Op, double Operand)> Comparisons) : Matcher
    {
        public override bool Matches(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Number)
            {
                return false;
            }

            var number = value.GetDouble();
            return Comparisons.All(c => c.Op switch
            {
                "<" => number < c.Operand,
                "<=" => number <= c.Operand,
                "=" => number == c.Operand,
                ">" => number > c.Operand,
                _ => number >= c.Operand,
            });
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>An event pattern Wharf refuses; the message says what to fix.</summary>
public sealed class EventPatternException(string message) : Exception(message);
