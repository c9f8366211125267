using System.Text.Json;

namespace Wharf.Core.Lifecycle;

public enum LifecycleTagStatus
{
    Tagged,
    Untagged,
    Any,
}

public enum LifecycleCountType
{
    ImageCountMoreThan,
    SinceImagePushed,
    SinceImagePulled,
    SinceImageTransitioned,
}

/// <summary>Where an image's bytes live: <c>standard</c>, or <c>archive</c> (not pullable until restored).</summary>
public enum StorageClass
{
    Standard,
    Archive,
}

public enum LifecycleActionType
{
    Expire,
    Transition,
}

/// <summary>One rule of a lifecycle policy, as ECR's JSON has it (lists are empty when absent).</summary>
public sealed record LifecycleRule(
    int Priority,
    string? Description,
    LifecycleTagStatus TagStatus,
    IReadOnlyList<string> TagPrefixes,
    IReadOnlyList<string> TagPatterns,
    StorageClass StorageClass,
    LifecycleCountType CountType,
    int CountNumber,
    LifecycleActionType Action);

/// <summary>A lifecycle policy that failed ECR's validation; the message is ECR's whole sentence.</summary>
public sealed class LifecyclePolicyException(string detail)
    : Exception($"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: {detail}'")
{
    /// <summary>What was wrong, without ECR's prefix.</summary>
    public string Detail { get; } = detail;
}

/// <summary>
/// An ECR lifecycle policy (ECR-NOTES §3.1–3.2): parsed and validated with ECR's rules and wording,
/// rules in priority order. One Wharf extension: <c>expire</c> with <c>sinceImagePulled</c> (ECR
/// only archives by last pull) deletes images nobody pulled for N days.
/// </summary>
public sealed class LifecyclePolicy
{
    /// <summary>The most <c>*</c> wildcards one <c>tagPatternList</c> entry may have.</summary>
    public const int MaxWildcards = 4;

    private static readonly string[] RuleProperties = ["rulePriority", "description", "selection", "action"];
    private static readonly string[] SelectionProperties = ["tagStatus", "tagPatternList", "tagPrefixList", "storageClass", "countType", "countUnit", "countNumber"];
    private static readonly string[] ActionProperties = ["type", "targetStorageClass"];

    private LifecyclePolicy(IReadOnlyList<LifecycleRule> rules) => Rules = rules;

    /// <summary>The rules, lowest <c>rulePriority</c> (applied first) first.</summary>
    public IReadOnlyList<LifecycleRule> Rules { get; }

    /// <summary>
    /// Whether a tag matches a <c>tagPatternList</c> entry. ECR's only wildcard there is <c>*</c> (any
    /// run of characters, also none); every other character, <c>?</c> included, matches itself.
    /// </summary>
    public static bool PatternMatches(string pattern, string tag)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return string.Equals(pattern, tag, StringComparison.Ordinal);
        }

        if (!tag.StartsWith(parts[0], StringComparison.Ordinal) || !tag.EndsWith(parts[^1], StringComparison.Ordinal) || tag.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        // Greedy left-to-right placement of the middle parts is exact for a single wildcard kind.
        var at = parts[0].Length;
        var end = tag.Length - parts[^1].Length;
        foreach (var part in parts[1..^1])
        {
            var found = tag.IndexOf(part, at, end - at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + part.Length;
        }

        return true;
    }

    /// <summary>Parses and validates; throws <see cref="LifecyclePolicyException"/> with ECR's message.</summary>
    public static LifecyclePolicy Parse(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
            if (!Primitives.JsonStrings.AreReadable(document.RootElement))
            {
                document.Dispose();
                throw new LifecyclePolicyException("Could not map policyString into LifecyclePolicy.");
            }
        }
        catch (JsonException)
        {
            throw new LifecyclePolicyException("Could not map policyString into LifecyclePolicy.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new LifecyclePolicyException("Could not map policyString into LifecyclePolicy.");
            }

            Allowed(root, ["rules"]);
            Required(root, ["rules"]);
            var rulesElement = root.GetProperty("rules");
            if (rulesElement.ValueKind != JsonValueKind.Array)
            {
                throw WrongType(rulesElement, "array");
            }

            if (rulesElement.GetArrayLength() == 0)
            {
                throw new LifecyclePolicyException("array is too short: must have at least 1 elements but instance has 0 elements");
            }

            var rules = rulesElement.EnumerateArray().Select(ParseRule).OrderBy(r => r.Priority).ToList();
            CheckPolicy(rules);
            return new LifecyclePolicy(rules);
        }
    }

    private static LifecycleRule ParseRule(JsonElement rule)
    {
        if (rule.ValueKind != JsonValueKind.Object)
        {
            throw WrongType(rule, "object");
        }

        Required(rule, ["action", "rulePriority", "selection"]);
        Allowed(rule, RuleProperties);
        var priority = Integer(rule.GetProperty("rulePriority"));
        var description = rule.TryGetProperty("description", out var d) ? Text(d) : null;

        var selection = rule.GetProperty("selection");
        if (selection.ValueKind != JsonValueKind.Object)
        {
            throw WrongType(selection, "object");
        }

        Required(selection, ["countNumber", "countType", "tagStatus"]);
        Allowed(selection, SelectionProperties);
        var tagStatus = OneOf(selection.GetProperty("tagStatus"), ["tagged", "untagged", "any"]) switch
        {
            "tagged" => LifecycleTagStatus.Tagged,
            "untagged" => LifecycleTagStatus.Untagged,
            _ => LifecycleTagStatus.Any,
        };
        var countType = Text(selection.GetProperty("countType")) switch
        {
            "imageCountMoreThan" => LifecycleCountType.ImageCountMoreThan,
            "sinceImagePushed" => LifecycleCountType.SinceImagePushed,
            "sinceImagePulled" => LifecycleCountType.SinceImagePulled,
            "sinceImageTransitioned" => LifecycleCountType.SinceImageTransitioned,
            _ => throw new LifecyclePolicyException("instance failed to match exactly one schema (matched 0 out of 2)"),
        };
        var countNumber = Integer(selection.GetProperty("countNumber"));
        var hasUnit = selection.TryGetProperty("countUnit", out var unit);
        if (hasUnit)
        {
            OneOf(unit, ["days"]);
        }

        if (countType == LifecycleCountType.ImageCountMoreThan && hasUnit)
        {
            throw new LifecyclePolicyException("countUnit cannot be specified when countType is imageCountMoreThan");
        }

        if (countType != LifecycleCountType.ImageCountMoreThan && !hasUnit)
        {
            throw new LifecyclePolicyException($"countUnit is required when countType is {Text(selection.GetProperty("countType"))}");
        }

        var storageClass = selection.TryGetProperty("storageClass", out var sc) && OneOf(sc, ["archive", "standard"]) == "archive" ? StorageClass.Archive : StorageClass.Standard;
        var prefixes = selection.TryGetProperty("tagPrefixList", out var p) ? Strings(p) : null;
        var patterns = selection.TryGetProperty("tagPatternList", out var q) ? Strings(q) : null;

        var action = rule.GetProperty("action");
        if (action.ValueKind != JsonValueKind.Object)
        {
            throw WrongType(action, "object");
        }

        Required(action, ["type"]);
        Allowed(action, ActionProperties);
        var type = OneOf(action.GetProperty("type"), ["expire", "transition"]) == "expire" ? LifecycleActionType.Expire : LifecycleActionType.Transition;
        var hasTarget = action.TryGetProperty("targetStorageClass", out var target);
        if (hasTarget)
        {
            OneOf(target, ["archive"]);
        }

        var result = new LifecycleRule(priority, description, tagStatus, prefixes ?? [], patterns ?? [], storageClass, countType, countNumber, type);
        CheckRule(result, prefixes is not null, patterns is not null, hasTarget);
        return result;
    }

    private static void CheckRule(LifecycleRule rule, bool hasPrefixes, bool hasPatterns, bool hasTarget)
    {
        var where = $"rule with rulePriority {rule.Priority}";
        if (rule.TagStatus == LifecycleTagStatus.Tagged && !hasPrefixes && !hasPatterns)
        {
            throw new LifecyclePolicyException("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.");
        }

        if (hasPrefixes && hasPatterns)
        {
            throw new LifecyclePolicyException($"Cannot specify both tagPrefixList and tagPatternList in one rule ({where}).");
        }

        if (rule.TagStatus != LifecycleTagStatus.Tagged && (hasPrefixes || hasPatterns))
        {
            throw new LifecyclePolicyException($"tagPrefixList and tagPatternList are only allowed when tagStatus=TAGGED ({where}).");
        }

        if ((hasPrefixes && rule.TagPrefixes.Count == 0) || (hasPatterns && rule.TagPatterns.Count == 0))
        {
            throw new LifecyclePolicyException($"array is too short: must have at least 1 elements but instance has 0 elements ({where}).");
        }

        if (rule.TagPatterns.FirstOrDefault(t => t.Count(c => c == '*') > MaxWildcards) is { } wild)
        {
            throw new LifecyclePolicyException($"tagPatternList entry '{wild}' has more than {MaxWildcards} wildcards ({where}).");
        }

        if (rule.CountType == LifecycleCountType.SinceImageTransitioned)
        {
            if (rule.StorageClass != StorageClass.Archive)
            {
                throw new LifecyclePolicyException($"storageClass must be archive when countType is sinceImageTransitioned ({where}).");
            }
        }
        else if (rule.StorageClass != StorageClass.Standard)
        {
            throw new LifecyclePolicyException($"storageClass archive can only be selected with countType sinceImageTransitioned ({where}).");
        }

        if (rule.Action == LifecycleActionType.Transition && !hasTarget)
        {
            throw new LifecyclePolicyException($"targetStorageClass is required when action type is transition ({where}).");
        }

        if (rule.Action == LifecycleActionType.Expire && hasTarget)
        {
            throw new LifecyclePolicyException($"targetStorageClass is only allowed when action type is transition ({where}).");
        }

        if (rule.Action == LifecycleActionType.Transition && rule.StorageClass == StorageClass.Archive)
        {
            throw new LifecyclePolicyException($"Images in archive can only be expired ({where}).");
        }
    }

    private static void CheckPolicy(List<LifecycleRule> rules)
    {
        if (rules.GroupBy(r => r.Priority).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new LifecyclePolicyException($"rulePriority {twice.Key} is used by more than one rule; rule priorities must be unique.");
        }

        foreach (var storageClass in rules.GroupBy(r => r.StorageClass))
        {
            var ordered = storageClass.ToList();
            // ECR: "the set of rules selecting a given storage class must have unique prefixes".
            if (ordered.SelectMany(r => r.TagPrefixes.Distinct(StringComparer.Ordinal).Select(p => (Prefix: p, r.Priority)))
                    .GroupBy(x => x.Prefix, StringComparer.Ordinal)
                    .FirstOrDefault(g => g.Count() > 1) is { } shared)
            {
                throw new LifecyclePolicyException(
                    $"The set of rules selecting a given storage class must have unique prefixes; tagPrefixList entry '{shared.Key}' is used by rules {string.Join(" and ", shared.Select(x => x.Priority))}.");
            }

            if (ordered.Count(r => r.TagStatus == LifecycleTagStatus.Untagged) > 1)
            {
                throw new LifecyclePolicyException("Only one rule can select Untagged images per storage class");
            }

            if (ordered.Count(r => r.TagStatus == LifecycleTagStatus.Any) > 1 || ordered.Take(ordered.Count - 1).Any(r => r.TagStatus == LifecycleTagStatus.Any))
            {
                throw new LifecyclePolicyException("Rule for tagStatus=ANY must have the lowest priority per storage class");
            }
        }
    }

    private static void Required(JsonElement element, string[] names)
    {
        var missing = names.Where(n => !element.TryGetProperty(n, out _)).ToList();
        if (missing.Count > 0)
        {
            throw new LifecyclePolicyException($"object has missing required properties ({JsonSerializer.Serialize(missing, Primitives.CoreJsonContext.Default.ListString)})");
        }
    }

    private static void Allowed(JsonElement element, string[] names)
    {
        if (element.EnumerateObject().FirstOrDefault(p => !names.Contains(p.Name, StringComparer.Ordinal)) is { Value.ValueKind: not JsonValueKind.Undefined } extra)
        {
            throw new LifecyclePolicyException($"object instance has properties which are not allowed by the schema: ([\"{extra.Name}\"])");
        }
    }

    private static string OneOf(JsonElement element, string[] values)
    {
        var value = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        return values.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new LifecyclePolicyException($"instance value ({value}) not found in enum :(possible values: {JsonSerializer.Serialize(values, Primitives.CoreJsonContext.Default.StringArray)})");
    }

    private static string Text(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw WrongType(element, "string");

    private static int Integer(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value))
        {
            throw WrongType(element, "integer");
        }

        return value < 1
            ? throw new LifecyclePolicyException($"numeric instance is lower than the required minimum (minimum: 1, found: {value})")
            : value > int.MaxValue
                ? throw new LifecyclePolicyException($"numeric instance is greater than the required maximum (maximum: {int.MaxValue}, found: {value})")
                : (int)value;
    }

    private static List<string> Strings(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw WrongType(element, "array");
        }

        var values = element.EnumerateArray().Select(Text).ToList();
        return values.Any(v => v.Length == 0)
            ? throw new LifecyclePolicyException("string \"\" is too short (length: 0, required minimum: 1)")
            : values;
    }

    private static LifecyclePolicyException WrongType(JsonElement element, string expected)
    {
        var actual = element.ValueKind switch
        {
            JsonValueKind.Object => "object",
            JsonValueKind.Array => "array",
            JsonValueKind.String => "string",
            JsonValueKind.Number => element.TryGetInt64(out _) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        };
        return new LifecyclePolicyException($"instance type ({actual}) does not match any allowed primitive type (allowed: [\"{expected}\"])");
    }
}
