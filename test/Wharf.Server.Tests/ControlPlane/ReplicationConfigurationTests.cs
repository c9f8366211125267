using System.Text;
using System.Text.Json.Nodes;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Robustness;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// <c>PutReplicationConfiguration</c> and <c>DescribeRegistry</c> with the AWS CLI and boto3 (ECR-NOTES §6):
/// round trips, ECR's refusals, clearing, one configuration per registry (account and region), IAM, and
/// Wharf's <c>wharfTagFilters</c> in SigV4-signed raw requests and through boto3's event hooks.
/// </summary>
public sealed class ReplicationConfigurationTests
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";

    private static Task<ProcessResult> Cli(WharfTestServer server, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);

    private static async Task<JsonNode> DescribeAsync(WharfTestServer server, string region = Region, IDictionary<string, string>? credentials = null)
    {
        var result = (await AwsClients.CliAsync(server.BaseAddress, region, credentials ?? new Dictionary<string, string>(), "ecr", "describe-registry")).EnsureSuccess();
        var registry = JsonNode.Parse(result.StandardOutput)!;
        Assert.Equal(Account, registry["registryId"]!.GetValue<string>());
        return registry["replicationConfiguration"]!;
    }

    [Fact]
    public async Task Cli_configuration_round_trips_stays_in_its_region_and_an_empty_rule_list_clears_it()
    {
        await using var server = await WharfTestServer.StartAsync();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"rules":[]}"""), await DescribeAsync(server)));

        const string Configuration = """
            {"rules":[
              {"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"us-east-1","registryId":"210987654321"}],
               "repositoryFilters":[{"filter":"prod","filterType":"PREFIX_MATCH"}]},
              {"destinations":[{"region":"ap-south-1","registryId":"123456789012"}]}]}
            """;
        var put = JsonNode.Parse((await Cli(server, "ecr", "put-replication-configuration", "--replication-configuration", Configuration)).EnsureSuccess().StandardOutput)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Configuration), put["replicationConfiguration"]), put.ToJsonString());
        var described = await DescribeAsync(server);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Configuration), described), described.ToJsonString());

        // Another region of the same account is another registry, with its own (empty) configuration.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"rules":[]}"""), await DescribeAsync(server, "eu-west-1")));

        (await Cli(server, "ecr", "put-replication-configuration", "--replication-configuration", """{"rules":[]}""")).EnsureSuccess();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"rules":[]}"""), await DescribeAsync(server)));
    }

    public static TheoryData<string, string> Refusals => new()
    {
        {
            string.Join(",", Enumerable.Range(1, 11).Select(i => $$"""{"destinations":[{"region":"us-west-{{i}}","registryId":"123456789012"}]}""")),
            "Invalid parameter at 'replicationConfiguration.rules' failed to satisfy constraint: 'must have length less than or equal to 10'"
        },
        {
            string.Join(",", Enumerable.Range(0, 3).Select(r => $$"""{"destinations":[{{string.Join(",", Enumerable.Range(0, 9).Select(i => $$"""{"region":"eu-west-1","registryId":"2109876543{{r}}{{i}}"}"""))}}]}""")),
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication configuration cannot have more than 25 unique destinations across all rules; it has 27'"
        },
        {
            """{"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"us-east-1","registryId":"123456789012"}]}""",
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination cannot be the same as the source registry'"
        },
        {
            """{"destinations":[{"region":"eu-west-1","registryId":"123456789012"},{"region":"eu-west-1","registryId":"123456789012"}]}""",
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication rule cannot contain duplicate destinations: region eu-west-1, registry 123456789012'"
        },
        {
            """{"destinations":[{"region":"EU-WEST-1","registryId":"123456789012"}]}""",
            "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations.1.member.region' failed to satisfy constraint: 'must satisfy regular expression '[0-9a-z-]{2,25}''"
        },
        {
            """{"destinations":[{"region":"eu-west-1","registryId":"12345678901"}]}""",
            "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations.1.member.registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''"
        },
        {
            """{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"repositoryFilters":[{"filter":"prod//app","filterType":"PREFIX_MATCH"}]}""",
            "Invalid parameter at 'replicationConfiguration.rules.1.member.repositoryFilters.1.member.filter' failed to satisfy constraint: 'must satisfy regular expression '^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$''"
        },
        {
            """{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"repositoryFilters":[{"filter":"prod","filterType":"WILDCARD"}]}""",
            "Invalid parameter at 'replicationConfiguration.rules.1.member.repositoryFilters.1.member.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [PREFIX_MATCH]'"
        },
        {
            """{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}]},{"destinations":[]}""",
            "Invalid parameter at 'replicationConfiguration.rules.2.member.destinations' failed to satisfy constraint: 'Replication rule must have at least one destination'"
        },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Cli_gets_ecrs_refusal_and_the_configuration_stays(string rules, string message)
    {
        await using var server = await WharfTestServer.StartAsync();
        const string Kept = """{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}]}]}""";
        (await Cli(server, "ecr", "put-replication-configuration", "--replication-configuration", Kept)).EnsureSuccess();

        var refused = await Cli(server, "ecr", "put-replication-configuration", "--replication-configuration", $$"""{"rules":[{{rules}}]}""");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"(InvalidParameterException) when calling the PutReplicationConfiguration operation: {message}", refused.StandardError, StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Kept), await DescribeAsync(server)));
    }

    [Fact]
    public async Task Put_needs_ecr_PutReplicationConfiguration_on_star_in_iam_mode()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        const string Configuration = """{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}]}]}""";

        (await Aws(root, "iam", "create-user", "--user-name", "ops")).EnsureSuccess();
        (await Aws(root, "iam", "put-user-policy", "--user-name", "ops", "--policy-name", "read", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRegistry","Resource":"*"}]}""")).EnsureSuccess();
        var ops = IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", "ops"));

        var denied = await Aws(ops, "ecr", "put-replication-configuration", "--replication-configuration", Configuration);
        Assert.Contains("(AccessDeniedException)", denied.StandardError, StringComparison.Ordinal);
        Assert.Contains(
            $"User: arn:aws:iam::{Account}:user/ops is not authorized to perform: ecr:PutReplicationConfiguration on resource: * because no identity-based policy allows the ecr:PutReplicationConfiguration action",
            denied.StandardError,
            StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"rules":[]}"""), await DescribeAsync(server, credentials: ops)));

        (await Aws(root, "iam", "put-user-policy", "--user-name", "ops", "--policy-name", "replicate", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PutReplicationConfiguration","Resource":"*"}]}""")).EnsureSuccess();
        (await Aws(ops, "ecr", "put-replication-configuration", "--replication-configuration", Configuration)).EnsureSuccess();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Configuration), await DescribeAsync(server, credentials: ops)));
    }

    [Fact]
    public async Task Tag_filters_round_trip_in_a_sigv4_signed_raw_request_and_the_cli_drops_them()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        var key = AwsKey.From(root);
        const string Configuration = """
            {"rules":[
              {"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"wharfTagFilters":["release-*","v*"]},
              {"destinations":[{"region":"ap-south-1","registryId":"123456789012"}],"repositoryFilters":[{"filter":"prod","filterType":"PREFIX_MATCH"}]}]}
            """;

        async Task<(int Status, JsonNode Body)> SendAsync(string operation, string body)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var headers = key.Sign(server.BaseAddress, "POST", "/", [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", EcrHttp.Target + operation)], bytes, "ecr", Region);
            var response = await RawHttp.SendAsync(server.BaseAddress, RawHttp.Build("POST", "/", server.BaseAddress, headers, bytes));
            return (response.Status, JsonNode.Parse(response.Body)!);
        }

        var put = await SendAsync("PutReplicationConfiguration", $$"""{"replicationConfiguration":{{Configuration}}}""");
        Assert.Equal(200, put.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Configuration), put.Body["replicationConfiguration"]), put.Body.ToJsonString());
        var described = await SendAsync("DescribeRegistry", "{}");
        Assert.Equal(200, described.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Configuration), described.Body["replicationConfiguration"]), described.Body.ToJsonString());

        // A bad tag filter gets ECR's error shape; the configuration stays.
        var bad = await SendAsync("PutReplicationConfiguration", """{"replicationConfiguration":{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"123456789012"}],"wharfTagFilters":"release-*"}]}}""");
        Assert.Equal(400, bad.Status);
        Assert.Equal("InvalidParameterException", bad.Body["__type"]!.GetValue<string>());
        Assert.Equal("Invalid parameter at 'replicationConfiguration.rules.1.member.wharfTagFilters' failed to satisfy constraint: 'must be a list of tag filters'", bad.Body["message"]!.GetValue<string>());

        // The CLI parses answers by ECR's model: it shows the rules without the extension.
        var cli = await DescribeAsync(server, credentials: root);
        Assert.Equal(2, cli["rules"]!.AsArray().Count);
        Assert.Null(cli["rules"]![0]!["wharfTagFilters"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Boto3_configures_replication_and_tag_filters_through_its_event_hooks(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "ecr_replication_configuration.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, "eu-west-1", root);
        Assert.True(result.ExitCode == 0, $"{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("all checks passed", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Docs_show_the_boto3_hooks_the_script_tests()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Wharf.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var hooks = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "wharf_tag_filters.py")).ReplaceLineEndings("\n");
        var code = hooks[hooks.IndexOf("import json", StringComparison.Ordinal)..].TrimEnd();
        Assert.Contains(code, File.ReadAllText(Path.Combine(dir.FullName, "docs", "replication.md")).ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
