using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;

namespace Wharf.Core.Tests.Replication;

/// <summary>
/// The replication configuration's wire form (ECR-NOTES §6): ECR's rules the model cannot say, Wharf's
/// tag filters, the stored form and which tags go to which destination.
/// </summary>
public sealed class ReplicationConfigurationParserTests
{
    private static readonly RegistryKey Source = new(AccountId.Parse("123456789012"), "us-east-1");

    private static ReplicationConfiguration Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ReplicationConfigurationParser.Parse(document.RootElement, Source);
    }

    private static string Refused(string json) =>
        Assert.Throws<WharfException>(() => Parse(json)) is { Code: WharfErrorCode.InvalidParameter } e ? e.Message : throw new InvalidOperationException("not InvalidParameter");

    private static string Destinations(IEnumerable<(string Region, string Registry)> destinations) =>
        string.Join(",", destinations.Select(d => $$"""{"region":"{{d.Region}}","registryId":"{{d.Registry}}"}"""));

    [Fact]
    public void A_configuration_round_trips_through_the_setting_and_the_wire_with_tag_filters()
    {
        var parsed = Parse("""
            {"rules":[
              {"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"us-east-1","registryId":"210987654321"}],
               "repositoryFilters":[{"filter":"prod/","filterType":"PREFIX_MATCH"}],
               "wharfTagFilters":["release-*","v*","v*"]},
              {"destinations":[{"region":"eu-west-1","registryId":"123456789012"}]}]}
            """);
        Assert.Equal(2, parsed.Rules.Count);
        Assert.Equal(["release-*", "v*"], parsed.Rules[0].TagFilters);
        Assert.Null(parsed.Rules[1].TagFilters);
        Assert.Empty(parsed.Rules[1].RepositoryFilters);

        var stored = ReplicationConfiguration.FromSetting(parsed.ToSetting());
        var wire = ReplicationConfigurationParser.ToWire(stored).ToJsonString();
        Assert.Equal(
            """{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"us-east-1","registryId":"210987654321"}],"repositoryFilters":[{"filter":"prod/","filterType":"PREFIX_MATCH"}],"wharfTagFilters":["release-*","v*"]},{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}]}]}""",
            wire);
    }

    [Fact]
    public void No_rules_is_the_empty_configuration()
    {
        var parsed = Parse("""{"rules":[]}""");
        Assert.Empty(parsed.Rules);
        Assert.Equal("""{"rules":[]}""", ReplicationConfigurationParser.ToWire(parsed).ToJsonString());
        Assert.Empty(ReplicationConfiguration.FromSetting(parsed.ToSetting()).DestinationsFor("any", ["v1"]));
    }

    [Fact]
    public void A_destination_equal_to_the_source_registry_and_region_is_refused_with_ecrs_text()
    {
        Assert.Equal(
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination cannot be the same as the source registry'",
            Refused("""{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"us-east-1","registryId":"123456789012"}]}]}"""));

        // The same account in another region, or another account in the same region, is a destination.
        Parse("""{"rules":[{"destinations":[{"region":"us-east-2","registryId":"123456789012"},{"region":"us-east-1","registryId":"123456789013"}]}]}""");
    }

    [Fact]
    public void A_destination_twice_in_one_rule_is_refused_but_two_rules_may_share_one()
    {
        Assert.Contains(
            "'Replication rule cannot contain duplicate destinations: region eu-west-1, registry 123456789012'",
            Refused("""{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"eu-west-1","registryId":"123456789012"}]}]}"""),
            StringComparison.Ordinal);
        var shared = Parse("""
            {"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"repositoryFilters":[{"filter":"a","filterType":"PREFIX_MATCH"}]},
                      {"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"repositoryFilters":[{"filter":"ab","filterType":"PREFIX_MATCH"}]}]}
            """);
        Assert.Equal([new ReplicationDestination("eu-west-1", "123456789012")], shared.DestinationsFor("abc", []));
    }

    [Fact]
    public void Twenty_five_unique_destinations_pass_and_a_twenty_sixth_is_refused()
    {
        var accounts = Enumerable.Range(0, 26).Select(i => ("eu-west-1", (210987654300L + i).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();

        // Repeating destinations across rules counts them once.
        Parse($$"""{"rules":[{"destinations":[{{Destinations(accounts.Take(25))}}]},{"destinations":[{{Destinations(accounts.Take(5))}}]}]}""");
        Assert.Equal(
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication configuration cannot have more than 25 unique destinations across all rules; it has 26'",
            Refused($$"""{"rules":[{"destinations":[{{Destinations(accounts.Take(20))}}]},{"destinations":[{{Destinations(accounts.Skip(20))}}]}]}"""));
    }

    [Fact]
    public void A_rule_without_destinations_is_refused()
    {
        Assert.Equal(
            "Invalid parameter at 'replicationConfiguration.rules.2.member.destinations' failed to satisfy constraint: 'Replication rule must have at least one destination'",
            Refused("""{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}]},{"destinations":[]}]}"""));
    }

    [Theory]
    [InlineData("\"release-*\"", "replicationConfiguration.rules.1.member.wharfTagFilters' failed to satisfy constraint: 'must be a list of tag filters'")]
    [InlineData("{\"filter\":\"v*\"}", "must be a list of tag filters")]
    [InlineData("[]", "wharfTagFilters' failed to satisfy constraint: 'must have length greater than or equal to 1'")]
    [InlineData("[\"ok\",\"has space\"]", "wharfTagFilters.2.member' failed to satisfy constraint: 'must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$''")]
    [InlineData("[\"\"]", "wharfTagFilters.1.member'")]
    [InlineData("[\"release/1\"]", "wharfTagFilters.1.member'")]
    [InlineData("[42]", "wharfTagFilters.1.member'")]
    [InlineData("[null]", "wharfTagFilters.1.member'")]
    [InlineData("[\"\\ud800\"]", "wharfTagFilters.1.member'")]
    public void Bad_tag_filters_are_refused_with_their_path(string filters, string expected)
    {
        Assert.Contains(
            expected,
            Refused($$"""{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"wharfTagFilters":{{filters}}}]}"""),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Tag_filter_bounds_are_100_filters_of_128_characters()
    {
        string Rule(IEnumerable<string> filters) =>
            $$"""{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"wharfTagFilters":[{{string.Join(",", filters.Select(f => $"\"{f}\""))}}]}]}""";

        Assert.Equal(100, Parse(Rule(Enumerable.Range(0, 100).Select(i => $"t{i}"))).Rules[0].TagFilters!.Count);
        Assert.Contains("'must have length less than or equal to 100'", Refused(Rule(Enumerable.Range(0, 101).Select(i => $"t{i}"))), StringComparison.Ordinal);
        Assert.Single(Parse(Rule([new string('a', 128)])).Rules[0].TagFilters!);
        Assert.Contains("must satisfy regular expression", Refused(Rule([new string('a', 129)])), StringComparison.Ordinal);
    }

    [Fact]
    public void Null_tag_filters_are_absent()
    {
        Assert.Null(Parse("""{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"wharfTagFilters":null}]}""").Rules[0].TagFilters);
    }

    [Fact]
    public void A_tag_filtered_rule_sends_only_matching_tags_and_no_untagged_image()
    {
        var everything = new ReplicationDestination("eu-west-1", "123456789012");
        var releases = new ReplicationDestination("ap-south-1", "123456789012");
        var configuration = Parse("""
            {"rules":[
              {"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"repositoryFilters":[{"filter":"prod","filterType":"PREFIX_MATCH"}]},
              {"destinations":[{"region":"ap-south-1","registryId":"123456789012"}],"wharfTagFilters":["release-*","v1.2"]}]}
            """);

        Assert.Equal([everything, releases], configuration.DestinationsFor("prod/app", ["latest", "release-1"]));
        Assert.Equal(["latest", "release-1"], configuration.TagsFor("prod/app", ["latest", "release-1"], everything));
        Assert.Equal(["release-1"], configuration.TagsFor("prod/app", ["latest", "release-1"], releases));

        // Only "*" is a wildcard, and a filter matches the whole tag: "v1.2" is neither "v1x2" nor "v1.20".
        Assert.Equal([everything], configuration.DestinationsFor("prod/app", ["v1x2", "v1.20"]));
        Assert.Equal([everything, releases], configuration.DestinationsFor("prod/app", ["v1.2"]));
        Assert.Empty(configuration.DestinationsFor("dev/app", ["latest"]));
        Assert.Equal([releases], configuration.DestinationsFor("dev/app", ["release-2"]));

        // Pushed by digest alone: the rule without tag filters takes it, the tag-filtered one does not.
        Assert.Equal([everything], configuration.DestinationsFor("prod/app", []));
        Assert.Empty(configuration.TagsFor("prod/app", [], releases));
    }
}
