using System.Text.Json;

namespace Wharf.Core.Security.Policies;

/// <summary>A policy document that failed validation; the message points at the problem.</summary>
public sealed class PolicyFormatException(string message) : Exception(message);

public enum PolicyEffect
{
    Allow,
    Deny,
}

/// <summary>A principal a resource policy names: <c>*</c>, an account (id or root ARN) or a specific ARN.</summary>
/// <param name="Kind"><c>*</c>, <c>account</c>, <c>arn</c> or <c>service</c>.</param>
/// <param name="Value">The account id, ARN or service name.</param>
public sealed record PolicyPrincipal(string Kind, string Value);

/// <summary>One condition: operator (with its <c>IfExists</c>/set qualifiers), key, and values (ORed).</summary>
public sealed record PolicyCondition(string Operator, string? SetQualifier, bool IfExists, string Key, IReadOnlyList<string> Values);

/// <summary>One statement. <c>Not*</c> lists invert the element.</summary>
public sealed record PolicyStatement(
    string? Sid,
    PolicyEffect Effect,
    IReadOnlyList<string> Actions,
    bool NotAction,
    IReadOnlyList<string> Resources,
    bool NotResource,
    IReadOnlyList<PolicyPrincipal>? Principals,
    bool NotPrincipal,
    IReadOnlyList<PolicyCondition> Conditions);

/// <summary>
/// An IAM policy document (identity or resource policy), parsed and validated once: the grammar of
/// AWS's IAM JSON policy reference, with errors that name the statement and element at fault.
/// </summary>
public sealed class PolicyDocument
{
    private static readonly HashSet<string> StatementElements = new(StringComparer.Ordinal)
    {
        "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition",
    };

    private PolicyDocument(string version, IReadOnlyList<PolicyStatement> statements)
    {
        Version = version;
        Statements = statements;
    }

    public string Version { get; }

    public IReadOnlyList<PolicyStatement> Statements { get; }

    /// <summary>Parses and validates; <paramref name="isResourcePolicy"/> requires <c>Principal</c> in every statement.</summary>
    public static PolicyDocument Parse(string json, bool isResourcePolicy)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new PolicyFormatException($"Invalid policy document: the JSON is malformed ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyFormatException("Invalid policy document: it must be a JSON object");
            }

            if (!Primitives.JsonStrings.AreReadable(root))
            {
                throw new PolicyFormatException("Invalid policy document: it holds a string that is not valid Unicode (an escaped lone surrogate)");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("Version" or "Id" or "Statement"))
                {
                    throw new PolicyFormatException($"Invalid policy document: unknown element '{property.Name}'");
                }
            }

            var version = root.TryGetProperty(nameof(Version), out var v) ? Text(v) ?? string.Empty : "2008-10-17";
            if (version is not ("2012-10-17" or "2008-10-17"))
            {
                throw new PolicyFormatException($"Invalid policy document: Version must be 2012-10-17 or 2008-10-17, not '{version}'");
            }

            if (!root.TryGetProperty("Statement", out var statementElement))
            {
                throw new PolicyFormatException("Invalid policy document: missing 'Statement'");
            }

            var statements = statementElement.ValueKind == JsonValueKind.Array
                ? statementElement.EnumerateArray().ToList()
                : [statementElement];
            if (statements.Count == 0)
            {
                throw new PolicyFormatException("Invalid policy document: 'Statement' is empty");
            }

            return new PolicyDocument(version, statements.Select((s, i) => ParseStatement(s, i + 1, isResourcePolicy)).ToList());
        }
    }

    private static PolicyStatement ParseStatement(JsonElement s, int index, bool isResourcePolicy)
    {
        var where = $"statement {index}";
        if (s.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException($"Invalid policy document: {where} must be an object");
        }

        foreach (var property in s.EnumerateObject())
        {
            if (!StatementElements.Contains(property.Name))
            {
                throw new PolicyFormatException($"Invalid policy document: {where} has unknown element '{property.Name}'");
            }
        }

        var sid = s.TryGetProperty("Sid", out var sidElement) ? Text(sidElement) : null;
        if (sidElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            throw new PolicyFormatException($"Invalid policy document: {where} has Sid {sid}; it must be a string");
        }

        if (sid is not null)
        {
            where = $"statement '{sid}'";
        }

        var effect = s.TryGetProperty("Effect", out var e) ? Text(e) : null;
        var parsedEffect = effect switch
        {
            "Allow" => PolicyEffect.Allow,
            "Deny" => PolicyEffect.Deny,
            _ => throw new PolicyFormatException($"Invalid policy document: {where} has Effect '{effect}'; it must be Allow or Deny"),
        };

        var (actions, notAction) = OneOf(s, "Action", "NotAction", where, required: true);
        foreach (var action in actions)
        {
            if (action != "*" && (action.IndexOf(':', StringComparison.Ordinal) <= 0))
            {
                throw new PolicyFormatException($"Invalid policy document: {where} has action '{action}'; actions are 'service:Name' (wildcards allowed) or '*'");
            }
        }

        var (resources, notResource) = OneOf(s, "Resource", "NotResource", where, required: !isResourcePolicy);
        foreach (var resource in resources)
        {
            if (resource != "*" && !(resource.StartsWith("arn:", StringComparison.Ordinal) && resource.Split(':').Length >= 6))
            {
                throw new PolicyFormatException($"Invalid policy document: {where} has resource '{resource}'; resources are ARNs (arn:partition:service:region:account:resource) or '*'");
            }
        }

        IReadOnlyList<PolicyPrincipal>? principals = null;
        var notPrincipal = s.TryGetProperty("NotPrincipal", out var np);
        if (s.TryGetProperty("Principal", out var p) || notPrincipal)
        {
            if (!isResourcePolicy)
            {
                throw new PolicyFormatException($"Invalid policy document: {where} has a Principal, which identity policies cannot have");
            }

            if (s.TryGetProperty("Principal", out _) && notPrincipal)
            {
                throw new PolicyFormatException($"Invalid policy document: {where} has both Principal and NotPrincipal");
            }

            principals = ParsePrincipals(notPrincipal ? np : p, where);
        }
        else if (isResourcePolicy)
        {
            throw new PolicyFormatException($"Invalid policy document: {where} has no Principal; resource policies must name one");
        }

        var conditions = s.TryGetProperty("Condition", out var c) ? ParseConditions(c, where) : [];
        return new PolicyStatement(sid, parsedEffect, actions, notAction, resources.Count == 0 ? ["*"] : resources, notResource, principals, notPrincipal, conditions);
    }

    /// <summary>A string element's value, or any other element's JSON text (which no check accepts), for the error message.</summary>
    private static string? Text(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null => null,
        _ => element.GetRawText(),
    };

    private static (List<string> Values, bool Not) OneOf(JsonElement s, string name, string notName, string where, bool required)
    {
        var has = s.TryGetProperty(name, out var value);
        var hasNot = s.TryGetProperty(notName, out var notValue);
        if (has && hasNot)
        {
            throw new PolicyFormatException($"Invalid policy document: {where} has both {name} and {notName}");
        }

        if (!has && !hasNot)
        {
            return required ? throw new PolicyFormatException($"Invalid policy document: {where} needs {name} or {notName}") : ([], false);
        }

        return (Strings(has ? value : notValue, $"{where} {(has ? name : notName)}"), hasNot);
    }

    private static List<string> Strings(JsonElement element, string where) => element.ValueKind switch
    {
        JsonValueKind.String => [element.GetString()!],
        JsonValueKind.Array when element.GetArrayLength() > 0 && element.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String) =>
            element.EnumerateArray().Select(x => x.GetString()!).ToList(),
        JsonValueKind.True or JsonValueKind.False => [element.GetBoolean() ? "true" : "false"],
        JsonValueKind.Number => [element.GetRawText()],
        _ => throw new PolicyFormatException($"Invalid policy document: {where} must be a string or a non-empty list of strings"),
    };

    private static List<PolicyPrincipal> ParsePrincipals(JsonElement element, string where)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return element.GetString() == "*"
                ? [new PolicyPrincipal("*", "*")]
                : throw new PolicyFormatException($"Invalid policy document: {where} has Principal '{element.GetString()}'; use \"*\" or {{\"AWS\": …}}");
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException($"Invalid policy document: {where} has a malformed Principal");
        }

        var principals = new List<PolicyPrincipal>();
        foreach (var property in element.EnumerateObject())
        {
            foreach (var value in Strings(property.Value, $"{where} Principal.{property.Name}"))
            {
                principals.Add(property.Name switch
                {
                    "AWS" when value == "*" => new PolicyPrincipal("*", "*"),
                    "AWS" when value.Length == 12 && value.All(char.IsAsciiDigit) => new PolicyPrincipal("account", value),
                    "AWS" when value.StartsWith("arn:", StringComparison.Ordinal) && value.EndsWith(":root", StringComparison.Ordinal) && value.Split(':').Length == 6 =>
                        new PolicyPrincipal("account", value.Split(':')[4]),
                    "AWS" when value.StartsWith("arn:", StringComparison.Ordinal) && value.Split(':').Length >= 6 => new PolicyPrincipal("arn", value),
                    "Service" => new PolicyPrincipal("service", value),
                    "AWS" => throw new PolicyFormatException($"Invalid policy document: {where} has principal '{value}'; use an account id or an IAM ARN"),
                    _ => throw new PolicyFormatException($"Invalid policy document: {where} has principal type '{property.Name}'; use AWS or Service"),
                });
            }
        }

        return principals;
    }

    private static List<PolicyCondition> ParseConditions(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException($"Invalid policy document: {where} has a malformed Condition");
        }

        var conditions = new List<PolicyCondition>();
        foreach (var op in element.EnumerateObject())
        {
            var name = op.Name;
            string? qualifier = null;
            var colon = name.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                qualifier = name[..colon];
                name = name[(colon + 1)..];
                if (qualifier is not ("ForAnyValue" or "ForAllValues"))
                {
                    throw new PolicyFormatException($"Invalid policy document: {where} has condition qualifier '{qualifier}'; use ForAnyValue or ForAllValues");
                }
            }

            var ifExists = name.EndsWith("IfExists", StringComparison.Ordinal) && name != "IfExists";
            var baseName = ifExists ? name[..^"IfExists".Length] : name;
            if (!PolicyConditions.IsKnownOperator(baseName) || (ifExists && baseName == "Null"))
            {
                throw new PolicyFormatException($"Invalid policy document: {where} has unknown condition operator '{op.Name}'");
            }

            if (op.Value.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyFormatException($"Invalid policy document: {where} condition '{op.Name}' must map keys to values");
            }

            foreach (var key in op.Value.EnumerateObject())
            {
                conditions.Add(new PolicyCondition(baseName, qualifier, ifExists, key.Name, Strings(key.Value, $"{where} condition '{op.Name}' key '{key.Name}'")));
            }
        }

        return conditions;
    }
}
