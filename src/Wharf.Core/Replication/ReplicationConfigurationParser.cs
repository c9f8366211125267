using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;

namespace Wharf.Core.Replication;

/// <summary>
/// The wire form of a replication configuration (ECR's <c>ReplicationConfiguration</c> shape, plus Wharf's
/// tag filters), both ways. <see cref="Parse"/> applies the rules the model cannot say (ECR-NOTES §6);
/// the model has already checked what it can (0–10 rules, 0–100 destinations and 1–100 repository filters
/// per rule, the region, registry id and filter patterns, <c>PREFIX_MATCH</c>).
/// </summary>
/// <remarks>
/// ECR's texts: the same-as-source refusal is ECR's own wording, as answered by ECR and reproduced by
/// moto's ECR backend (<c>moto/ecr/models.py</c> and its test). ECR's quota "unique destinations across
/// all rules in a replication configuration: 25" (the Service Quotas page and the user guide's replication
/// considerations) has no published refusal text; nor do a duplicate destination within a rule and a rule
/// without destinations (CloudFormation's schema for <c>AWS::ECR::ReplicationConfiguration</c> requires one).
/// Those three use ECR's <c>Invalid parameter at … failed to satisfy constraint</c> frame with Wharf's wording.
/// </remarks>
public static partial class ReplicationConfigurationParser
{
    /// <summary>The rule member that carries Wharf's tag filters (absent from ECR's model, so SDKs drop it; docs/replication.md).</summary>
    public const string TagFiltersMember = "wharfTagFilters";

    /// <summary>ECR's quota: unique destinations across all rules (not adjustable).</summary>
    public const int MaxUniqueDestinations = 25;

    /// <summary>Tag filters per rule: as many as repository filters (the model's 100).</summary>
    public const int MaxTagFilters = 100;

    /// <summary>A tag filter's length: OCI's longest tag.</summary>
    public const int MaxTagFilterLength = 128;

    /// <summary>The pattern of a tag filter: tag characters and <c>*</c>, as ECR's tag-mutability exclusion filters.</summary>
    public const string TagFilterPattern = "^[0-9a-zA-Z._*-]{1,128}$";

    /// <summary>
    /// The stored configuration for <paramref name="configuration"/> (the request's <c>replicationConfiguration</c>)
    /// put in <paramref name="source"/>; throws <see cref="WharfException"/> (<c>InvalidParameterException</c>) for
    /// what ECR refuses and for a bad tag filter. An empty rule list is the empty configuration: no replication.
    /// </summary>
    public static ReplicationConfiguration Parse(JsonElement configuration, RegistryKey source)
    {
        var rules = new List<ReplicationRule>();
        var unique = new HashSet<ReplicationDestination>();
        var index = 0;
        foreach (var rule in configuration.GetProperty("rules").EnumerateArray())
        {
            index++;
            var path = $"replicationConfiguration.rules.{index}.member";
            var destinations = new List<ReplicationDestination>();
            foreach (var destination in rule.GetProperty("destinations").EnumerateArray())
            {
                var parsed = new ReplicationDestination(destination.GetProperty("region").GetString()!, destination.GetProperty("registryId").GetString()!);
                if (destinations.Contains(parsed))
                {
                    throw Invalid("replicationConfiguration", $"Replication rule cannot contain duplicate destinations: region {parsed.Region}, registry {parsed.RegistryId}");
                }

                if (parsed.Region == source.Region && parsed.RegistryId == source.Account.Value)
                {
                    throw Invalid("replicationConfiguration", "Replication destination cannot be the same as the source registry");
                }

                destinations.Add(parsed);
                unique.Add(parsed);
            }

            if (destinations.Count == 0)
            {
                throw Invalid($"{path}.destinations", "Replication rule must have at least one destination");
            }

            var filters = rule.TryGetProperty("repositoryFilters", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Select(f => new ReplicationRepositoryFilter(f.GetProperty("filter").GetString()!, f.GetProperty("filterType").GetString()!)).ToList()
                : [];
            rules.Add(new ReplicationRule(destinations, filters, TagFilters(rule, $"{path}.{TagFiltersMember}")));
        }

        if (unique.Count > MaxUniqueDestinations)
        {
            throw Invalid("replicationConfiguration", $"Replication configuration cannot have more than {MaxUniqueDestinations} unique destinations across all rules; it has {unique.Count}");
        }

        return new ReplicationConfiguration(rules);
    }

    /// <summary>
    /// ECR's <c>ReplicationConfiguration</c> shape for <paramref name="configuration"/>: a rule without repository
    /// filters has no <c>repositoryFilters</c> member (as it was put), and one with tag filters carries them in
    /// <see cref="TagFiltersMember"/>.
    /// </summary>
    public static JsonObject ToWire(ReplicationConfiguration configuration) => new()
    {
        ["rules"] = new JsonArray(configuration.Rules.Select(rule =>
        {
            var shape = new JsonObject
            {
                ["destinations"] = new JsonArray(rule.Destinations.Select(d => (JsonNode)new JsonObject { ["region"] = d.Region, ["registryId"] = d.RegistryId }).ToArray()),
            };
            if (rule.RepositoryFilters.Count > 0)
            {
                shape["repositoryFilters"] = new JsonArray(rule.RepositoryFilters.Select(f => (JsonNode)new JsonObject { ["filter"] = f.Filter, ["filterType"] = f.FilterType }).ToArray());
            }

            if (rule.TagFilters is { Count: > 0 } tags)
            {
                shape[TagFiltersMember] = new JsonArray(tags.Select(t => (JsonNode)JsonValue.Create(t)).ToArray());
            }

            return (JsonNode)shape;
        }).ToArray()),
    };

    /// <summary>
    /// The rule's tag filters, or null when it has none. The model does not know the member, so its type,
    /// count, length and characters are all checked here; JSON null is absence, as for model members.
    /// </summary>
    private static List<string>? TagFilters(JsonElement rule, string path)
    {
        if (!rule.TryGetProperty(TagFiltersMember, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path, "must be a list of tag filters");
        }

        var count = value.GetArrayLength();
        if (count < 1)
        {
            throw Invalid(path, "must have length greater than or equal to 1");
        }

        if (count > MaxTagFilters)
        {
            throw Invalid(path, $"must have length less than or equal to {MaxTagFilters}");
        }

        var filters = new List<string>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            index++;
            var text = item.ValueKind == JsonValueKind.String ? TryGetString(item) : null;
            if (text is null || !TagFilter().IsMatch(text))
            {
                throw Invalid($"{path}.{index}.member", $"must satisfy regular expression '{TagFilterPattern}'");
            }

            if (!filters.Contains(text, StringComparer.Ordinal))
            {
                filters.Add(text);
            }
        }

        return filters;
    }

    /// <summary>A lone surrogate escape parses as JSON but cannot be read as a string: refused, not a 500.</summary>
    private static string? TryGetString(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static WharfException Invalid(string member, string constraint) => WharfException.InvalidParameter(member, constraint);

    [GeneratedRegex(TagFilterPattern, RegexOptions.CultureInvariant, 100)]
    private static partial Regex TagFilter();
}
