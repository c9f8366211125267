using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Wharf.Server.Tests.Robustness;

/// <summary>
/// The fuzz tests' vocabulary: hostile strings and JSON values, and byte-level mutations. One instance
/// per request, seeded from the run's seed and the request's number, so a failure can be replayed.
/// </summary>
internal sealed class Mutator(int seed)
{
    /// <summary>Strings that have broken parsers: control characters, lone surrogates, traversal, absurd lengths and numbers.</summary>
    private static readonly string[] WeirdStrings =
    [
        string.Empty, "\0", "a\0b", "\u0001", "\u001f", "\u007f", "\ud800", "\udfff", "a\ud800b", "\uffff", "\ufffe", "ü", "日本", "😀",
        "..", "../../etc", "/", "//", "a/../b", "%00", "%", "%zz", "%ED%A0%80", " ", "a b", "\r\n", "\t", "<x>", "&amp;", "'", "\"", "\\",
        "*", "?", "${aws:username}", "-1", "0", "99999999999999999999", "1e400", "NaN", "null", "true",
        "sha256:", "sha256:zz", "sha256:" + new string('a', 64), "sha256:" + new string('A', 64), "sha512:" + new string('0', 128),
        "md5:abc", ":" + new string('0', 64), "arn:aws:iam::123456789012:root", "arn:aws:ecr:us-east-1:123456789012:repository/fuzz/app",
        new string('a', 300), new string('a', 5000), new string('/', 300),
    ];

    private static readonly string[] Bytes = ["%00", "%01", "%1F", "%7F", "%80", "%C0%80", "%ED%A0%80", "%FF", "%F4%90%80%80", "%E2%80%AE", "%2F", "%2E%2E", "%25", "%3F", "%23"];

    public Random Random { get; } = new(seed);

    public bool Chance(int percent) => Random.Next(100) < percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    public string Weird() => Pick(WeirdStrings);

    /// <summary>A plausible value most of the time, a hostile one otherwise.</summary>
    public string Maybe(string plausible, int weirdPercent = 25) => Chance(weirdPercent) ? Weird() : plausible;

    /// <summary>A percent-encoded URL piece: plausible, hostile text encoded, or raw encoded bytes spliced in.</summary>
    public string UrlPiece(string plausible)
    {
        return Random.Next(6) switch
        {
            0 => PercentEncode(Weird()),
            1 => Splice(plausible, Pick(Bytes)),
            _ => plausible,
        };
    }

    /// <summary>A hostile JSON value.</summary>
    public JsonNode? WeirdJson() => Random.Next(10) switch
    {
        0 => null,
        1 => JsonValue.Create(Random.Next(2) == 0),
        2 => JsonValue.Create(Pick(new[] { -1L, 0L, long.MaxValue, long.MinValue, int.MaxValue + 1L })),
        3 => JsonValue.Create(1e300),
        4 => new JsonArray(String(Weird()), null),
        5 => new JsonObject { [Stand(Weird()) is { Length: > 0 } key ? key : "k"] = String(Weird()) },
        _ => String(Weird()),
    };

    /// <summary>
    /// A JSON string node that may hold a lone surrogate: the writer would not emit one, so it is held as a
    /// private-use stand-in that <see cref="ToJson"/> turns into the <c>\ud800</c> escape a hostile client sends.
    /// </summary>
    public static JsonValue String(string text) => JsonValue.Create(Stand(text));

    public static string ToJson(JsonNode node) => node.ToJsonString()
        .Replace("\\uE800", "\\ud800", StringComparison.OrdinalIgnoreCase)
        .Replace("\\uEFFF", "\\udfff", StringComparison.OrdinalIgnoreCase);

    private static string Stand(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = char.IsHighSurrogate(chars[i]) ? '\ue800' : '\uefff';
            }
        }

        return new string(chars);
    }

    /// <summary>One to three random edits of the JSON tree: a value replaced, a member removed or added.</summary>
    public void MutateTree(JsonNode root, int edits)
    {
        for (var i = 0; i < edits; i++)
        {
            var nodes = Walk(root).ToList();
            if (nodes.Count == 0)
            {
                if (root is JsonObject empty)
                {
                    empty[Weird() is { Length: > 0 } name ? Stand(name) : "k"] = WeirdJson();
                }

                continue;
            }

            var (parent, key) = Pick(nodes);
            switch (Random.Next(4))
            {
                case 0 when parent is JsonObject o && key is string name:
                    o.Remove(name);
                    break;
                case 1 when parent is JsonObject o:
                    o[Pick(new[] { "mediaType", "digest", "size", "subject", "manifests", "layers", "config", "annotations", "artifactType", "urls", "platform", "schemaVersion" })] = WeirdJson();
                    break;
                default:
                    if (parent is JsonObject obj && key is string member)
                    {
                        obj[member] = WeirdJson();
                    }
                    else if (parent is JsonArray array && key is int index)
                    {
                        array[index] = WeirdJson();
                    }

                    break;
            }
        }
    }

    /// <summary>Byte edits that break UTF-8 or JSON: invalid sequences inserted, bytes flipped, the text cut.</summary>
    public byte[] MutateBytes(byte[] bytes)
    {
        var list = new List<byte>(bytes);
        var edits = 1 + Random.Next(3);
        for (var i = 0; i < edits && list.Count > 0; i++)
        {
            var at = Random.Next(list.Count);
            switch (Random.Next(5))
            {
                case 0:
                    list.InsertRange(at, Pick(new byte[][] { [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00], [0xE2, 0x82] }));
                    break;
                case 1:
                    list[at] = (byte)Random.Next(256);
                    break;
                case 2:
                    list.RemoveRange(at, list.Count - at);
                    break;
                case 3:
                    list.InsertRange(at, "\\ud800"u8.ToArray());
                    break;
                default:
                    list.RemoveAt(at);
                    break;
            }
        }

        return [.. list];
    }

    public byte[] RandomBytes(int max)
    {
        var bytes = new byte[Random.Next(max + 1)];
        Random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Percent-encodes UTF-8, writing a lone surrogate as the bytes a careless encoder would (ED A0 80).</summary>
    public static string PercentEncode(string text)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (char.IsSurrogate(text[i]) && !pair)
            {
                builder.Append("%ED%A0%80");
                continue;
            }

            var piece = pair ? text.Substring(i++, 2) : text[i].ToString();
            foreach (var b in Encoding.UTF8.GetBytes(piece))
            {
                builder.Append(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~' ? ((char)b).ToString() : $"%{b:X2}");
            }
        }

        return builder.ToString();
    }

    private string Splice(string text, string insert)
    {
        var at = Random.Next(text.Length + 1);
        return string.Concat(text.AsSpan(0, at), insert, text.AsSpan(at));
    }

    private static IEnumerable<(JsonNode Parent, object Key)> Walk(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o.ToList())
                {
                    yield return (o, name);
                    if (value is not null)
                    {
                        foreach (var inner in Walk(value))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    yield return (a, i);
                    if (a[i] is { } value)
                    {
                        foreach (var inner in Walk(value))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
        }
    }

    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
