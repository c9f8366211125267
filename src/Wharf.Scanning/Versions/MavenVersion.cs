using System.Globalization;
using System.Numerics;

namespace Wharf.Scanning.Versions;

/// <summary>
/// Maven versions as Maven's <c>ComparableVersion</c> orders them: the version splits at <c>.</c>,
/// <c>-</c> and digit/letter changes into numbers and qualifiers, a <c>-</c> opening a nested list;
/// trailing "null" items (<c>0</c>, <c>ga</c>, <c>final</c>, <c>release</c>, empty) are dropped, so
/// <c>1.0</c> = <c>1</c> = <c>1-ga</c>. Known qualifiers order <c>alpha</c> &lt; <c>beta</c> &lt;
/// <c>milestone</c> &lt; <c>rc</c> = <c>cr</c> &lt; <c>snapshot</c> &lt; release &lt; <c>sp</c>, with
/// <c>a1</c>/<c>b1</c>/<c>m1</c> short for alpha/beta/milestone; other qualifiers come after <c>sp</c>,
/// alphabetically, and numbers after any qualifier.
/// </summary>
public static class MavenVersion
{
    private static readonly string[] Qualifiers = ["alpha", "beta", "milestone", "rc", "snapshot", string.Empty, "sp"];

    public static int Compare(string a, string b) => CompareLists(Parse(a), Parse(b));

    private abstract record Item;

    private sealed record NumberItem(BigInteger Value) : Item;

    private sealed record TextItem(string Value) : Item;

    private sealed record ListItem(List<Item> Items) : Item;

    private static ListItem Parse(string version)
    {
        var text = version.Trim().ToLowerInvariant();
        var root = new ListItem([]);
        var list = root;
        var stack = new Stack<ListItem>();
        stack.Push(root);
        var start = 0;
        var isDigit = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '.')
            {
                list.Items.Add(start == i ? new NumberItem(0) : Token(text[start..i], isDigit));
                start = i + 1;
            }
            else if (c == '-')
            {
                list.Items.Add(start == i ? new NumberItem(0) : Token(text[start..i], isDigit));
                start = i + 1;
                var sub = new ListItem([]);
                list.Items.Add(sub);
                list = sub;
                stack.Push(list);
            }
            else if (char.IsAsciiDigit(c))
            {
                if (!isDigit && i > start)
                {
                    // letters then digits: "alpha1" is "alpha-1", and "a1" is "alpha-1"
                    list.Items.Add(Token(text[start..i], false, followedByDigit: true));
                    start = i;
                    var sub = new ListItem([]);
                    list.Items.Add(sub);
                    list = sub;
                    stack.Push(list);
                }

                isDigit = true;
            }
            else
            {
                if (isDigit && i > start)
                {
                    list.Items.Add(Token(text[start..i], true));
                    start = i;
                    var sub = new ListItem([]);
                    list.Items.Add(sub);
                    list = sub;
                    stack.Push(list);
                }

                isDigit = false;
            }
        }

        if (text.Length > start)
        {
            list.Items.Add(Token(text[start..], isDigit));
        }

        foreach (var item in stack)
        {
            Normalize(item);
        }

        return root;
    }

    private static Item Token(string token, bool isDigit, bool followedByDigit = false) =>
        isDigit ? new NumberItem(BigInteger.Parse(token, CultureInfo.InvariantCulture)) : new TextItem(Alias(token, followedByDigit));

    private static string Alias(string token, bool followedByDigit) => token switch
    {
        "a" when followedByDigit => "alpha",
        "b" when followedByDigit => "beta",
        "m" when followedByDigit => "milestone",
        "cr" => "rc",
        "ga" or "final" or "release" => string.Empty,
        _ => token,
    };

    // Trailing null items go, from the end, stopping at the first that is not null.
    private static void Normalize(ListItem list)
    {
        for (var i = list.Items.Count - 1; i >= 0; i--)
        {
            var item = list.Items[i];
            if (IsNull(item))
            {
                list.Items.RemoveAt(i);
            }
            else if (item is not ListItem)
            {
                break;
            }
        }
    }

    private static bool IsNull(Item item) => item switch
    {
        NumberItem n => n.Value.IsZero,
        TextItem t => t.Value.Length == 0,
        ListItem l => l.Items.Count == 0,
        _ => false,
    };

    private static int CompareLists(ListItem a, ListItem b)
    {
        for (var i = 0; i < Math.Max(a.Items.Count, b.Items.Count); i++)
        {
            var x = i < a.Items.Count ? a.Items[i] : null;
            var y = i < b.Items.Count ? b.Items[i] : null;
            var c = x is null ? -CompareTo(y!, null) : CompareTo(x, y);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    // One item against another (or against nothing, null).
    private static int CompareTo(Item item, Item? other) => item switch
    {
        NumberItem n => other switch
        {
            null => n.Value.IsZero ? 0 : 1,
            NumberItem m => n.Value.CompareTo(m.Value),
            _ => 1, // a number is newer than a qualifier or a list
        },
        TextItem t => other switch
        {
            null => QualifierRank(t.Value).CompareTo(QualifierRank(string.Empty)),
            NumberItem => -1,
            TextItem u => QualifierRank(t.Value) != QualifierRank(u.Value) || QualifierRank(t.Value) < Qualifiers.Length
                ? QualifierRank(t.Value).CompareTo(QualifierRank(u.Value))
                : string.CompareOrdinal(t.Value, u.Value) switch { < 0 => -1, > 0 => 1, _ => 0 },
            _ => -1, // a qualifier is older than a list
        },
        ListItem l => other switch
        {
            null => l.Items.Count == 0 ? 0 : CompareTo(l.Items[0], null),
            NumberItem => -1,
            TextItem => 1,
            ListItem m => CompareLists(l, m),
            _ => 0,
        },
        _ => 0,
    };

    // Known qualifiers by rank; unknown ones after all of them (then alphabetically).
    private static int QualifierRank(string qualifier)
    {
        var index = Array.IndexOf(Qualifiers, qualifier);
        return index >= 0 ? index : Qualifiers.Length;
    }
}
