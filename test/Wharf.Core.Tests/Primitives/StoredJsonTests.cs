using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Wharf.Core.Metadata;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Replication;
using Wharf.Core.Repositories;
using Wharf.Core.Scanning;

namespace Wharf.Core.Tests.Primitives;

/// <summary>
/// The settings Core stores as JSON are source-generated now (Native AOT). Each test writes a value with the
/// reflection-based serializer and the options the earlier versions used (spelled out here), and checks that the
/// stored text is the same byte for byte and that the text earlier versions stored still reads.
/// </summary>
public sealed class StoredJsonTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Reflection = new() { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static JsonSerializerOptions Earlier(JsonIgnoreCondition ignore, params JsonConverter[] converters)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = ignore, TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        foreach (var converter in converters)
        {
            options.Converters.Add(converter);
        }

        return options;
    }

    [Fact]
    public void Replication_configuration_is_stored_as_before()
    {
        var configuration = new ReplicationConfiguration([
            new ReplicationRule([new ReplicationDestination("eu-west-1", "123456789012")], [new ReplicationRepositoryFilter("team/")], ["release-*"]),
            new ReplicationRule([new ReplicationDestination("us-east-2", "210987654321")], []),
        ]);
        var earlier = JsonSerializer.Serialize(configuration, Earlier(JsonIgnoreCondition.WhenWritingNull));

        Assert.Equal(earlier, configuration.ToSetting());
        Assert.Equal(earlier, ReplicationConfiguration.FromSetting(earlier).ToSetting());
        Assert.Contains("\"tagFilters\":[\"release-*\"]", earlier, StringComparison.Ordinal);
    }

    [Fact]
    public void Scanning_configuration_is_stored_as_before()
    {
        var configuration = new ScanningConfiguration("ENHANCED", [new ScanningRule("SCAN_ON_PUSH", [new ScanningFilter("team/*")])]);
        var earlier = JsonSerializer.Serialize(configuration, Earlier(JsonIgnoreCondition.Never));

        Assert.Equal(earlier, configuration.ToSetting());
        Assert.Equal(earlier, ScanningConfiguration.FromSetting(earlier).ToSetting());
    }

    [Fact]
    public void Creation_templates_keep_their_enums_as_names()
    {
        var templates = new CreationTemplates([
            new CreationTemplate(
                "prod", "production", "KMS", "arn:aws:kms:us-east-1:123456789012:key/k", [new ResourceTag("team", "a")], TagMutability.ImmutableWithExclusion,
                ["latest*"], "{}", null, [CreationPurpose.CreateOnPush, CreationPurpose.PullThroughCache], null, T0, T0.AddDays(1)),
        ]);
        var earlier = JsonSerializer.Serialize(templates, Earlier(JsonIgnoreCondition.WhenWritingNull, new JsonStringEnumConverter()));

        Assert.Equal(earlier, templates.ToSetting());
        Assert.Contains("\"mutability\":\"ImmutableWithExclusion\"", earlier, StringComparison.Ordinal);
        Assert.Contains("\"appliedFor\":[\"CreateOnPush\",\"PullThroughCache\"]", earlier, StringComparison.Ordinal);
        Assert.Equal(earlier, CreationTemplates.FromSetting(earlier).ToSetting());
    }

    [Fact]
    public void Pull_through_cache_rules_are_stored_as_before()
    {
        var rules = new PullThroughCacheRules([new PullThroughCacheRule("hub", "registry-1.docker.io", "docker-hub", "arn:secret", null, "ROOT", T0, T0)]);
        var earlier = JsonSerializer.Serialize(rules, Earlier(JsonIgnoreCondition.WhenWritingNull));

        Assert.Equal(earlier, rules.ToSetting());
        Assert.Equal(earlier, PullThroughCacheRules.FromSetting(earlier).ToSetting());
    }

    [Fact]
    public void Scan_findings_are_stored_as_before()
    {
        IReadOnlyList<ScanFinding> findings =
        [
            new ScanFinding("CVE-2024-1", "DSA-1", "a \"quoted\" <description>", "https://example.test/1", "HIGH", "openssl", "3.0.1", "openssl", "OS", null,
                "sha256:aa", "3.0.2", null, null, "CVSS:3.1/AV:N", 7.5, "debian", ["https://example.test/ref"]),
            new ScanFinding("GHSA-x", null, null, null, "LOW", "lodash", "4.17.0", null, "NPM", "app/package-lock.json", "sha256:bb", null, null, null, null, null, "osv", [], "linux/arm64"),
        ];
        var earlier = JsonSerializer.Serialize(findings, Earlier(JsonIgnoreCondition.WhenWritingNull));

        Assert.Equal(earlier, ScanFinding.Serialize(findings));
        Assert.Equal(earlier, ScanFinding.Serialize(ScanFinding.Deserialize(earlier)));
    }

    [Fact]
    public void Tag_mutability_exclusions_are_stored_as_before()
    {
        string[] filters = ["latest", "release-*", "é\"<"];
        var earlier = JsonSerializer.Serialize(filters, Reflection);

        Assert.Equal(earlier, TagMutabilityNames.ExclusionsToJson(filters));
        Assert.Equal(filters, TagMutabilityNames.ExclusionsFromJson(earlier));
    }
}
