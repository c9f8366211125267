using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wharf.Core.Security.Policies;

/// <summary>
/// IAM's condition operators. A condition holds when, for its key, any of the policy's values matches
/// (values are ORed; keys and operators are ANDed by the caller). A key absent from the request makes
/// the positive operators false and the negated ones true; <c>IfExists</c> makes an absent key true;
/// <c>ForAnyValue</c>/<c>ForAllValues</c> compare sets for multi-valued keys.
/// </summary>
public static class PolicyConditions
{
    private static readonly HashSet<string> Operators = new(StringComparer.Ordinal)
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
        "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
        "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
        "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "Null",
    };

    public static bool IsKnownOperator(string name) => Operators.Contains(name);

    /// <summary>Evaluates one condition against the request's values for its key (null when the key is absent).</summary>
    public static bool Holds(PolicyCondition condition, IReadOnlyList<string>? requestValues, Func<string, string> substitute)
    {
        var policyValues = condition.Values.Select(substitute).ToList();
        if (condition.Operator == "Null")
        {
            var absent = requestValues is null || requestValues.Count == 0;
            return policyValues.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase) == absent);
        }

        var negated = condition.Operator is "StringNotEquals" or "StringNotEqualsIgnoreCase" or "StringNotLike" or "ArnNotEquals" or "ArnNotLike"
            or "NumericNotEquals" or "DateNotEquals" or "NotIpAddress";
        var positive = negated ? Positive(condition.Operator) : condition.Operator;

        if (condition.SetQualifier is "ForAllValues")
        {
            // Every request value must match (vacuously true for an absent or empty key).
            return requestValues is null || requestValues.All(r => policyValues.Any(p => Matches(positive, r, p)) != negated);
        }

        if (requestValues is null || requestValues.Count == 0)
        {
            return condition.IfExists || (negated && condition.SetQualifier is null);
        }

        if (condition.SetQualifier is "ForAnyValue")
        {
            return requestValues.Any(r => policyValues.Any(p => Matches(positive, r, p)) != negated);
        }

        // A single-valued key: any policy value matching (for negated operators: none matching).
        var matched = requestValues.Any(r => policyValues.Any(p => Matches(positive, r, p)));
        return matched != negated;
    }

    private static string Positive(string negated) => negated switch
    {
        "StringNotEquals" => "StringEquals",
        "StringNotEqualsIgnoreCase" => "StringEqualsIgnoreCase",
        "StringNotLike" => "StringLike",
        "ArnNotEquals" => "ArnEquals",
        "ArnNotLike" => "ArnLike",
        "NumericNotEquals" => "NumericEquals",
        "DateNotEquals" => "DateEquals",
        _ => "IpAddress",
    };

    private static bool Matches(string op, string request, string policy) => op switch
    {
        "StringEquals" or "BinaryEquals" => string.Equals(request, policy, StringComparison.Ordinal),
        "StringEqualsIgnoreCase" => string.Equals(request, policy, StringComparison.OrdinalIgnoreCase),
        "StringLike" => Wildcard.Matches(policy, request, ignoreCase: false),
        "ArnEquals" or "ArnLike" => ArnMatches(policy, request),
        "Bool" => string.Equals(request, policy, StringComparison.OrdinalIgnoreCase),
        "IpAddress" => InNetwork(request, policy),
        _ when op.StartsWith("Numeric", StringComparison.Ordinal) => Compare(op["Numeric".Length..], Number(request), Number(policy)),
        _ when op.StartsWith("Date", StringComparison.Ordinal) => Compare(op["Date".Length..], Date(request), Date(policy)),
        _ => false,
    };

    private static bool Compare<T>(string comparison, T? request, T? policy)
        where T : struct, IComparable<T>
    {
        if (request is not { } r || policy is not { } p)
        {
            return false;
        }

        var c = r.CompareTo(p);
        return comparison switch
        {
            "Equals" => c == 0,
            "LessThan" => c < 0,
            "LessThanEquals" => c <= 0,
            "GreaterThan" => c > 0,
            "GreaterThanEquals" => c >= 0,
            _ => false,
        };
    }

    private static decimal? Number(string text) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    // ISO 8601 or epoch seconds, as IAM accepts.
    private static DateTimeOffset? Date(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch) ? DateTimeOffset.FromUnixTimeSeconds(epoch) : null;

    /// <summary>ARN matching: the six parts compared one by one, each with <c>*</c>/<c>?</c> wildcards.</summary>
    public static bool ArnMatches(string pattern, string arn)
    {
        if (pattern == "*")
        {
            return true;
        }

        var p = pattern.Split(':', 6);
        var a = arn.Split(':', 6);
        return p.Length == 6 && a.Length == 6 && p.Zip(a).All(x => Wildcard.Matches(x.First, x.Second, ignoreCase: false));
    }

    private static bool InNetwork(string address, string cidr)
    {
        if (!IPAddress.TryParse(address, out var ip))
        {
            return false;
        }

        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? cidr : cidr[..slash], out var network))
        {
            return false;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        if (ip.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        var bits = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = slash < 0 ? bits : int.TryParse(cidr[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= bits ? n : -1;
        if (prefix < 0)
        {
            return false;
        }

        var a = ip.GetAddressBytes();
        var b = network.GetAddressBytes();
        for (var i = 0; i < prefix; i++)
        {
            var mask = (byte)(0x80 >> (i % 8));
            if ((a[i / 8] & mask) != (b[i / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>IAM's wildcards: <c>*</c> any run of characters, <c>?</c> any one character.</summary>
public static class Wildcard
{
    public static bool Matches(string pattern, string value, bool ignoreCase)
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || string.Compare(pattern, p, value, v, 1, comparison) == 0) && pattern[p] != '*')
            {
                p++;
                v++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
