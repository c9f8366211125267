using System.Text.Json.Nodes;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// The pull-through cache rules API (ECR-NOTES §7.1–7.2) with the AWS CLI and boto3: the five operations'
/// round trips and output shapes, ECR's refusals with its exception types, the 50-rule quota, <c>ROOT</c> and
/// the implied trailing <c>/</c>, Wharf's any-OCI upstreams and its <c>http://</c> setting, and IAM.
/// </summary>
public sealed class RuleApiTests
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private const string Secret = $"arn:aws:secretsmanager:{Region}:{Account}:secret:ecr-pullthroughcache/hub-AbCdEf";
    private const string Role = $"arn:aws:iam::{Account}:role/wharf-pull";

    private static Task<ProcessResult> Cli(WharfTestServer server, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);

    private static async Task<JsonNode> CliJson(WharfTestServer server, params string[] args) =>
        JsonNode.Parse((await Cli(server, args)).EnsureSuccess().StandardOutput)!;

    private static Task<ProcessResult> Create(WharfTestServer server, string prefix, string url, params string[] more) =>
        Cli(server, CreateArgs(["--ecr-repository-prefix", prefix, "--upstream-registry-url", url, .. more]));

    /// <summary>
    /// <c>create-pull-through-cache-rule</c> with its options as <c>--cli-input-json</c>: AWS CLI v1 fetches an
    /// option's value that starts with <c>https://</c> instead of passing it on.
    /// </summary>
    private static string[] CreateArgs(string[] options)
    {
        var input = new JsonObject();
        for (var i = 0; i < options.Length; i += 2)
        {
            var words = options[i][2..].Split('-');
            input[words[0] + string.Concat(words.Skip(1).Select(w => char.ToUpperInvariant(w[0]) + w[1..]))] = options[i + 1];
        }

        return ["ecr", "create-pull-through-cache-rule", "--cli-input-json", input.ToJsonString()];
    }

    private static void AssertRefused(ProcessResult result, string operation, string type, string message)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"({type}) when calling the {operation} operation: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_round_trips_every_operation_with_the_models_output_shapes()
    {
        await using var server = await WharfTestServer.StartAsync();

        var quay = await CliJson(server, CreateArgs(["--ecr-repository-prefix", "quay/", "--upstream-registry-url", "quay.io"]));
        Assert.Equal(
            ["createdAt", "ecrRepositoryPrefix", "registryId", "upstreamRegistry", "upstreamRegistryUrl", "upstreamRepositoryPrefix"],
            quay.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("quay/", quay["ecrRepositoryPrefix"]!.GetValue<string>());
        Assert.Equal("quay", quay["upstreamRegistry"]!.GetValue<string>());
        Assert.Equal("ROOT", quay["upstreamRepositoryPrefix"]!.GetValue<string>());
        Assert.Equal(Account, quay["registryId"]!.GetValue<string>());

        // Wharf's extension: any OCI registry, no upstreamRegistry in the answer, no secret (anonymous).
        var any = await CliJson(server, CreateArgs(["--ecr-repository-prefix", "mirror", "--upstream-registry-url", "https://registry.example:5000"]));
        Assert.Null(any["upstreamRegistry"]);
        Assert.Equal("https://registry.example:5000", any["upstreamRegistryUrl"]!.GetValue<string>());

        // Another Wharf (or an ECR) as ecr upstream, through a role, with an upstream prefix.
        var ecr = await CliJson(
            server,
            CreateArgs(["--ecr-repository-prefix", "other", "--upstream-registry-url", "https://wharf.example",
                "--upstream-registry", "ecr", "--custom-role-arn", Role, "--upstream-repository-prefix", "team-a"]));
        Assert.Equal("ecr", ecr["upstreamRegistry"]!.GetValue<string>());
        Assert.Equal(Role, ecr["customRoleArn"]!.GetValue<string>());
        Assert.Equal("team-a", ecr["upstreamRepositoryPrefix"]!.GetValue<string>());

        var all = (await CliJson(server, "ecr", "describe-pull-through-cache-rules"))["pullThroughCacheRules"]!.AsArray();
        Assert.Equal(["mirror", "other", "quay/"], all.Select(r => r!["ecrRepositoryPrefix"]!.GetValue<string>()));
        var described = all[2]!.AsObject();
        Assert.Equal(
            ["createdAt", "ecrRepositoryPrefix", "registryId", "updatedAt", "upstreamRegistry", "upstreamRegistryUrl", "upstreamRepositoryPrefix"],
            described.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(described["createdAt"]!.GetValue<double>(), described["updatedAt"]!.GetValue<double>());

        // The filter names a rule with or without its trailing '/'.
        var filtered = (await CliJson(server, "ecr", "describe-pull-through-cache-rules", "--ecr-repository-prefixes", "quay", "other/"))["pullThroughCacheRules"]!.AsArray();
        Assert.Equal(["other", "quay/"], filtered.Select(r => r!["ecrRepositoryPrefix"]!.GetValue<string>()));

        await Task.Delay(1100);
        var updated = await CliJson(server, "ecr", "update-pull-through-cache-rule", "--ecr-repository-prefix", "other/", "--custom-role-arn", $"arn:aws:iam::{Account}:role/other");
        Assert.Equal(
            ["customRoleArn", "ecrRepositoryPrefix", "registryId", "updatedAt", "upstreamRepositoryPrefix"],
            updated.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("other", updated["ecrRepositoryPrefix"]!.GetValue<string>());
        var after = (await CliJson(server, "ecr", "describe-pull-through-cache-rules", "--ecr-repository-prefixes", "other"))["pullThroughCacheRules"]![0]!;
        Assert.Equal($"arn:aws:iam::{Account}:role/other", after["customRoleArn"]!.GetValue<string>());
        Assert.True(after["updatedAt"]!.GetValue<double>() > after["createdAt"]!.GetValue<double>());
        Assert.Equal("https://wharf.example", after["upstreamRegistryUrl"]!.GetValue<string>());

        // Validate answers (not throws) when the upstream cannot be reached: nothing listens at registry.example.
        var validated = await CliJson(server, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "mirror");
        Assert.False(validated["isValid"]!.GetValue<bool>());
        Assert.Contains("unreachable", validated["failure"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("https://registry.example:5000", validated["upstreamRegistryUrl"]!.GetValue<string>());

        var deleted = await CliJson(server, "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "quay");
        Assert.Equal(
            ["createdAt", "ecrRepositoryPrefix", "registryId", "upstreamRegistryUrl", "upstreamRepositoryPrefix"],
            deleted.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("quay/", deleted["ecrRepositoryPrefix"]!.GetValue<string>());
        Assert.Equal("quay.io", deleted["upstreamRegistryUrl"]!.GetValue<string>());

        foreach (var (operation, args) in new[]
        {
            ("DescribePullThroughCacheRules", new[] { "describe-pull-through-cache-rules", "--ecr-repository-prefixes", "quay" }),
            ("DeletePullThroughCacheRule", ["delete-pull-through-cache-rule", "--ecr-repository-prefix", "quay/"]),
            ("UpdatePullThroughCacheRule", ["update-pull-through-cache-rule", "--ecr-repository-prefix", "quay", "--custom-role-arn", Role]),
            ("ValidatePullThroughCacheRule", ["validate-pull-through-cache-rule", "--ecr-repository-prefix", "quay"]),
        })
        {
            AssertRefused(
                await Cli(server, ["ecr", .. args]), operation, "PullThroughCacheRuleNotFoundException",
                $"The pull through cache rule with the prefix 'quay' does not exist in the registry with id '{Account}'");
        }

        // Another region of the account is another registry, without these rules.
        var elsewhere = JsonNode.Parse((await AwsClients.CliAsync(server.BaseAddress, "eu-west-1", "ecr", "describe-pull-through-cache-rules")).EnsureSuccess().StandardOutput)!;
        Assert.Empty(elsewhere["pullThroughCacheRules"]!.AsArray());
    }

    public static TheoryData<string[], string, string> Refusals => new()
    {
        { ["--ecr-repository-prefix", "hub", "--upstream-registry-url", "quay.io"], "PullThroughCacheRuleAlreadyExistsException", $"A pull through cache rule with the prefix 'hub' already exists in the registry with id '{Account}'" },
        { ["--ecr-repository-prefix", "qq", "--upstream-registry-url", "ghcr.io", "--upstream-registry", "quay"], "UnsupportedUpstreamRegistryException", "The upstream registry URL 'ghcr.io' is the upstream registry 'github-container-registry', not 'quay'" },
        { ["--ecr-repository-prefix", "qq", "--upstream-registry-url", "registry.example", "--upstream-registry", "docker-hub"], "UnsupportedUpstreamRegistryException", "The upstream registry 'docker-hub' is not served at 'registry.example'" },
        { ["--ecr-repository-prefix", "dh", "--upstream-registry-url", "registry-1.docker.io"], "InvalidParameterException", "Invalid parameter at 'credentialArn' failed to satisfy constraint: 'a rule for the upstream registry docker-hub needs the ARN of a Secrets Manager secret" },
        { ["--ecr-repository-prefix", "az", "--upstream-registry-url", "mine.azurecr.io", "--upstream-registry", "azure-container-registry"], "InvalidParameterException", "a rule for the upstream registry azure-container-registry needs the ARN" },
        { ["--ecr-repository-prefix", "qq", "--upstream-registry-url", "quay.io", "--credential-arn", Secret], "InvalidParameterException", "Invalid parameter at 'credentialArn' failed to satisfy constraint: 'the upstream registry quay is pulled from without credentials; leave credentialArn out'" },
        { ["--ecr-repository-prefix", "ee", "--upstream-registry-url", "111122223333.dkr.ecr.eu-west-1.amazonaws.com"], "InvalidParameterException", "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'a rule for an ecr upstream registry needs the ARN of the IAM role to pull with'" },
        { ["--ecr-repository-prefix", "ee", "--upstream-registry-url", "111122223333.dkr.ecr.eu-west-1.amazonaws.com", "--custom-role-arn", Role, "--credential-arn", Secret], "InvalidParameterException", "a rule for an ECR upstream registry authenticates with customRoleArn, not a secret" },
        { ["--ecr-repository-prefix", "ee", "--upstream-registry-url", "111122223333.dkr.ecr.eu-west-1.amazonaws.com", "--custom-role-arn", "arn:aws:iam::111122223333:role/x"], "InvalidParameterException", $"Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'must be the ARN of an IAM role in the account of the registry ({Account})'" },
        { ["--ecr-repository-prefix", "kk", "--upstream-registry-url", "registry.k8s.io", "--custom-role-arn", Role], "InvalidParameterException", "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'only a rule for an ecr upstream registry assumes a role'" },
        { ["--ecr-repository-prefix", "dh", "--upstream-registry-url", "registry-1.docker.io", "--credential-arn", $"arn:aws:secretsmanager:eu-west-1:{Account}:secret:ecr-pullthroughcache/hub-AbCdEf"], "UnableToAccessSecretException", "is not in the account and region of the registry with id '123456789012' (us-east-1)" },
        { ["--ecr-repository-prefix", "dh", "--upstream-registry-url", "registry-1.docker.io", "--credential-arn", $"arn:aws:secretsmanager:{Region}:111122223333:secret:ecr-pullthroughcache/hub-AbCdEf"], "UnableToAccessSecretException", "a rule can use only a secret of its own registry's account and region" },
        { ["--ecr-repository-prefix", "dh", "--upstream-registry-url", "registry-1.docker.io", "--credential-arn", Secret], "SecretNotFoundException", "The ARN of the secret specified in the pull through cache rule was not found" },
        { ["--ecr-repository-prefix", "plain", "--upstream-registry-url", "http://127.0.0.1:5000"], "InvalidParameterException", "Invalid parameter at 'upstreamRegistryUrl' failed to satisfy constraint: 'http:// upstreams are refused unless the setting PullThroughCache:AllowInsecureUpstreams is true; use https://'" },
        { ["--ecr-repository-prefix", "path", "--upstream-registry-url", "https://registry.example/v2/library"], "InvalidParameterException", "Invalid parameter at 'upstreamRegistryUrl' failed to satisfy constraint: 'must be a registry host" },
        { ["--ecr-repository-prefix", "ROOT", "--upstream-registry-url", "https://wharf.example", "--upstream-registry", "ecr", "--custom-role-arn", Role, "--upstream-repository-prefix", "team"], "InvalidParameterException", "Invalid parameter at 'upstreamRepositoryPrefix' failed to satisfy constraint: 'can be set only when ecrRepositoryPrefix is not ROOT'" },
        { ["--ecr-repository-prefix", "qq", "--upstream-registry-url", "quay.io", "--upstream-repository-prefix", "team"], "InvalidParameterException", "Invalid parameter at 'upstreamRepositoryPrefix' failed to satisfy constraint: 'can be set only for an ecr upstream registry, not quay'" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Cli_gets_ecrs_refusal_and_no_rule_is_made(string[] args, string type, string message)
    {
        await using var server = await WharfTestServer.StartAsync();
        (await Create(server, "hub/", "https://registry.example")).EnsureSuccess();

        AssertRefused(await Cli(server, CreateArgs(args)), "CreatePullThroughCacheRule", type, message);
        var rules = (await CliJson(server, "ecr", "describe-pull-through-cache-rules"))["pullThroughCacheRules"]!.AsArray();
        Assert.Equal(["hub/"], rules.Select(r => r!["ecrRepositoryPrefix"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Http_upstreams_are_accepted_with_the_setting_and_ROOT_is_a_rule_like_any_other()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["PullThroughCache:AllowInsecureUpstreams"] = "true" });
        var root = await CliJson(server, CreateArgs(["--ecr-repository-prefix", "ROOT", "--upstream-registry-url", "http://127.0.0.1:5000"]));
        Assert.Equal("ROOT", root["ecrRepositoryPrefix"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:5000", root["upstreamRegistryUrl"]!.GetValue<string>());
        AssertRefused(await Create(server, "ROOT", "quay.io"), "CreatePullThroughCacheRule", "PullThroughCacheRuleAlreadyExistsException", "with the prefix 'ROOT' already exists");
        (await Cli(server, "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "ROOT")).EnsureSuccess();
    }

    [Fact]
    public async Task The_fifty_first_rule_is_LimitExceeded_and_paging_walks_all_fifty()
    {
        await using var server = await WharfTestServer.StartAsync();
        for (var i = 0; i < PullThroughCacheRules.MaxRules; i++)
        {
            (await Create(server, $"r{i:D2}", "quay.io")).EnsureSuccess();
        }

        AssertRefused(
            await Create(server, "r50", "quay.io"), "CreatePullThroughCacheRule", "LimitExceededException",
            $"The registry with id '{Account}' already has the maximum of 50 pull through cache rules");

        // The CLI pages itself through nextToken (page size 7): every rule once, in order.
        var paged = (await CliJson(server, "ecr", "describe-pull-through-cache-rules", "--page-size", "7"))["pullThroughCacheRules"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"r{i:D2}"), paged.Select(r => r!["ecrRepositoryPrefix"]!.GetValue<string>()));

        (await Cli(server, "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "r07")).EnsureSuccess();
        (await Create(server, "r50", "quay.io")).EnsureSuccess();
    }

    [Fact]
    public async Task A_ReadOnly_user_is_denied_every_rule_operation_and_a_FullAccess_user_is_not()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        async Task<Dictionary<string, string>> UserAsync(string name, string policy)
        {
            (await Aws(root, "iam", "create-user", "--user-name", name)).EnsureSuccess();
            (await Aws(root, "iam", "attach-user-policy", "--user-name", name, "--policy-arn", policy)).EnsureSuccess();
            return IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", name));
        }

        var reader = await UserAsync("reader", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly");
        var admin = await UserAsync("admin", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess");
        (await Aws(admin, "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "quay", "--upstream-registry-url", "quay.io")).EnsureSuccess();

        foreach (var (action, args) in new[]
        {
            ("CreatePullThroughCacheRule", new[] { "create-pull-through-cache-rule", "--ecr-repository-prefix", "k8s", "--upstream-registry-url", "registry.k8s.io" }),
            ("DescribePullThroughCacheRules", ["describe-pull-through-cache-rules"]),
            ("UpdatePullThroughCacheRule", ["update-pull-through-cache-rule", "--ecr-repository-prefix", "quay", "--custom-role-arn", Role]),
            ("ValidatePullThroughCacheRule", ["validate-pull-through-cache-rule", "--ecr-repository-prefix", "quay"]),
            ("DeletePullThroughCacheRule", ["delete-pull-through-cache-rule", "--ecr-repository-prefix", "quay"]),
        })
        {
            AssertRefused(
                await Aws(reader, ["ecr", .. args]), action, "AccessDeniedException",
                $"User: arn:aws:iam::{Account}:user/reader is not authorized to perform: ecr:{action} on resource: * because no identity-based policy allows the ecr:{action} action");
        }

        var rules = JsonNode.Parse((await Aws(admin, "ecr", "describe-pull-through-cache-rules")).EnsureSuccess().StandardOutput)!["pullThroughCacheRules"]!.AsArray();
        Assert.Single(rules);
        (await Aws(admin, "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "quay")).EnsureSuccess();
    }

    [Fact]
    public async Task Validate_authenticates_to_a_real_Distribution_and_says_when_the_secret_is_wrong_or_the_upstream_is_down()
    {
        await using var upstream = await DistributionRegistry.CreateAsync();
        await upstream.StartAsync();
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["PullThroughCache:AllowInsecureUpstreams"] = "true" });
        async Task<string> SecretAsync(string name, string password) =>
            (await CliJson(server, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/" + name, "--secret-string",
                new JsonObject { ["username"] = DistributionRegistry.User, ["accessToken"] = password }.ToJsonString()))["ARN"]!.GetValue<string>();
        async Task<JsonNode> ValidateAsync(string prefix) => await CliJson(server, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", prefix);

        var good = await SecretAsync("good", upstream.Password);
        var wrong = await SecretAsync("wrong", "not-" + upstream.Password);
        (await Cli(server, CreateArgs(["--ecr-repository-prefix", "dist", "--upstream-registry-url", upstream.Endpoint.ToString(), "--credential-arn", good]))).EnsureSuccess();
        (await Cli(server, CreateArgs(["--ecr-repository-prefix", "wrong", "--upstream-registry-url", upstream.Endpoint.ToString(), "--credential-arn", wrong]))).EnsureSuccess();
        (await Cli(server, CreateArgs(["--ecr-repository-prefix", "anon", "--upstream-registry-url", upstream.Endpoint.ToString()]))).EnsureSuccess();

        var valid = await ValidateAsync("dist");
        Assert.True(valid["isValid"]!.GetValue<bool>(), valid.ToJsonString());
        Assert.Null(valid["failure"]);
        Assert.Equal(good, valid["credentialArn"]!.GetValue<string>());

        var refused = await ValidateAsync("wrong");
        Assert.False(refused["isValid"]!.GetValue<bool>());
        Assert.StartsWith("The upstream registry refused the rule's credentials", refused["failure"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(upstream.Password, refused.ToJsonString(), StringComparison.Ordinal);
        var anonymous = await ValidateAsync("anon");
        Assert.False(anonymous["isValid"]!.GetValue<bool>());
        Assert.StartsWith("The upstream registry refused the rule's credentials", anonymous["failure"]!.GetValue<string>(), StringComparison.Ordinal);

        // The secret deleted (without recovery): the rule's secret cannot be used.
        (await Cli(server, "secretsmanager", "delete-secret", "--secret-id", wrong, "--force-delete-without-recovery")).EnsureSuccess();
        var missing = await ValidateAsync("wrong");
        Assert.False(missing["isValid"]!.GetValue<bool>());
        Assert.Contains("SecretNotFoundException", missing["failure"]!.GetValue<string>(), StringComparison.Ordinal);

        // Updating to a secret that does not exist is refused.
        AssertRefused(
            await Cli(server, "ecr", "update-pull-through-cache-rule", "--ecr-repository-prefix", "wrong", "--credential-arn", wrong),
            "UpdatePullThroughCacheRule", "SecretNotFoundException", "The ARN of the secret specified in the pull through cache rule was not found");

        upstream.Stop();
        var down = await ValidateAsync("dist");
        Assert.False(down["isValid"]!.GetValue<bool>());
        Assert.StartsWith("The upstream registry is unreachable", down["failure"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Boto3_manages_rules_and_gets_ecrs_refusals(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?>());
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "ecr_pull_through_cache_rules.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, Region);
        Assert.True(result.ExitCode == 0, $"{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("all checks passed", result.StandardOutput, StringComparison.Ordinal);
    }
}
