using Wharf.Core.Security.Policies;

namespace Wharf.Core.Tests.Security;

/// <summary>The policy engine, without I/O: AWS's evaluation logic, elements, wildcards, conditions, validation.</summary>
public sealed class PolicyEvaluatorTests
{
    private const string A = "111111111111";
    private const string B = "222222222222";
    private const string Repo = "arn:aws:ecr:us-east-1:111111111111:repository/team/app";
    private const string Alice = "arn:aws:iam::111111111111:user/alice";
    private const string Bob = "arn:aws:iam::222222222222:user/bob";

    private static RequestContext Request(string principal, string account, string action = "ecr:BatchGetImage", string resource = Repo, Dictionary<string, string[]>? keys = null)
    {
        var all = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:PrincipalArn"] = [principal],
            ["aws:PrincipalAccount"] = [account],
            ["aws:username"] = [principal.Split('/')[^1]],
        };
        foreach (var (key, values) in keys ?? [])
        {
            all[key] = values;
        }

        return new RequestContext(principal, account, action, resource, resource == "*" ? account : resource.Split(':')[4], all);
    }

    private static PolicyDocument Identity(string json) => PolicyDocument.Parse(json, isResourcePolicy: false);

    private static PolicyDocument Resource(string json) => PolicyDocument.Parse(json, isResourcePolicy: true);

    private static string Statement(string effect, string action, string resource = "*", string? principal = null, string? condition = null) =>
        $$"""{"Version":"2012-10-17","Statement":[{"Effect":"{{effect}}","Action":"{{action}}"{{(principal is null ? $",\"Resource\":\"{resource}\"" : $",\"Principal\":{principal}")}}{{(condition is null ? "" : $",\"Condition\":{condition}")}}}]}""";

    [Fact]
    public void A_role_arn_names_every_session_of_the_role_and_a_session_arn_only_that_session()
    {
        const string Session = "arn:aws:sts::111111111111:assumed-role/builder/ci-42";
        Assert.Equal("arn:aws:iam::111111111111:role/builder", Wharf.Core.Identity.RoleSession.IdentityArnOf(Session));
        Assert.Equal(Alice, Wharf.Core.Identity.RoleSession.IdentityArnOf(Alice));

        var namesRole = Resource(Statement("Allow", "ecr:BatchGetImage", principal: """{"AWS":"arn:aws:iam::111111111111:role/builder"}"""));
        Assert.True(PolicyEvaluator.Evaluate(Request(Session, A), [], namesRole).Allowed);
        var namesSession = Resource(Statement("Allow", "ecr:BatchGetImage", principal: """{"AWS":"arn:aws:sts::111111111111:assumed-role/builder/ci-42"}"""));
        Assert.True(PolicyEvaluator.Evaluate(Request(Session, A), [], namesSession).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request("arn:aws:sts::111111111111:assumed-role/builder/other", A), [], namesSession).Allowed);
        var namesOtherRole = Resource(Statement("Allow", "ecr:BatchGetImage", principal: """{"AWS":"arn:aws:iam::111111111111:role/build"}"""));
        Assert.False(PolicyEvaluator.Evaluate(Request(Session, A), [], namesOtherRole).Allowed);
    }

    [Fact]
    public void A_trust_policy_must_allow_assume_role_even_when_the_identity_policy_does()
    {
        const string Role = "arn:aws:iam::111111111111:role/deployer";
        var request = Request(Alice, A, "sts:AssumeRole", Role);
        var identity = Identity(Statement("Allow", "sts:AssumeRole", Role));
        var trustsOthers = Resource(Statement("Allow", "sts:AssumeRole", principal: """{"AWS":"arn:aws:iam::111111111111:user/carol"}"""));
        var denied = PolicyEvaluator.EvaluateAll(request, [identity], [trustsOthers], resourcePolicyRequired: true);
        Assert.Equal(DecisionKind.ImplicitDeny, denied.Kind);
        Assert.Equal("because no resource-based policy allows the sts:AssumeRole action", denied.Reason);

        // Trusting the account delegates to the identity policy; trusting alice herself needs none.
        var trustsAccount = Resource(Statement("Allow", "sts:AssumeRole", principal: $$"""{"AWS":"arn:aws:iam::{{A}}:root"}"""));
        Assert.False(PolicyEvaluator.EvaluateAll(request, [], [trustsAccount], resourcePolicyRequired: true).Allowed);
        Assert.True(PolicyEvaluator.EvaluateAll(request, [identity], [trustsAccount], resourcePolicyRequired: true).Allowed);
        var trustsAlice = Resource(Statement("Allow", "sts:AssumeRole", principal: $$"""{"AWS":"{{Alice}}"}"""));
        Assert.True(PolicyEvaluator.EvaluateAll(request, [], [trustsAlice], resourcePolicyRequired: true).Allowed);

        // Across accounts both must allow.
        var fromB = Request(Bob, B, "sts:AssumeRole", Role);
        var trustsB = Resource(Statement("Allow", "sts:AssumeRole", principal: $$"""{"AWS":"{{B}}"}"""));
        Assert.False(PolicyEvaluator.EvaluateAll(fromB, [], [trustsB], resourcePolicyRequired: true).Allowed);
        Assert.True(PolicyEvaluator.EvaluateAll(fromB, [Identity(Statement("Allow", "sts:AssumeRole", Role))], [trustsB], resourcePolicyRequired: true).Allowed);
    }

    [Fact]
    public void Same_account_identity_allow_suffices()
    {
        var decision = PolicyEvaluator.Evaluate(Request(Alice, A), [Identity(Statement("Allow", "ecr:BatchGetImage", Repo))], null);
        Assert.Equal(DecisionKind.Allow, decision.Kind);
    }

    [Fact]
    public void Same_account_resource_policy_naming_the_user_suffices_but_naming_the_account_delegates()
    {
        var namesUser = Resource(Statement("Allow", "ecr:BatchGetImage", principal: $$"""{"AWS":"{{Alice}}"}"""));
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A), [], namesUser).Allowed);

        var namesAccount = Resource(Statement("Allow", "ecr:BatchGetImage", principal: $$"""{"AWS":"{{A}}"}"""));
        var delegated = PolicyEvaluator.Evaluate(Request(Alice, A), [], namesAccount);
        Assert.Equal(DecisionKind.ImplicitDeny, delegated.Kind);
        Assert.Equal("because no identity-based policy allows the ecr:BatchGetImage action", delegated.Reason);
        Assert.True(PolicyEvaluator.Evaluate(Request("arn:aws:iam::111111111111:root", A), [], null).Allowed);
    }

    [Fact]
    public void Cross_account_needs_both_identity_and_resource_allow()
    {
        var identity = Identity(Statement("Allow", "ecr:BatchGetImage", Repo));
        var resource = Resource(Statement("Allow", "ecr:BatchGetImage", principal: $$"""{"AWS":"arn:aws:iam::{{B}}:root"}"""));
        var request = Request(Bob, B);

        var onlyIdentity = PolicyEvaluator.Evaluate(request, [identity], null);
        Assert.Equal(DecisionKind.ImplicitDeny, onlyIdentity.Kind);
        Assert.Equal(
            $"User: {Bob} is not authorized to perform: ecr:BatchGetImage on resource: {Repo} because no resource-based policy allows the ecr:BatchGetImage action",
            PolicyEvaluator.DenialMessage(request, onlyIdentity));
        Assert.Equal(DecisionKind.ImplicitDeny, PolicyEvaluator.Evaluate(request, [], resource).Kind);
        Assert.True(PolicyEvaluator.Evaluate(request, [identity], resource).Allowed);

        // Another account's root is not allowed by its identity into this account.
        Assert.False(PolicyEvaluator.Evaluate(Request($"arn:aws:iam::{B}:root", B), [], null).Allowed);
        Assert.True(PolicyEvaluator.Evaluate(Request($"arn:aws:iam::{B}:root", B), [], resource).Allowed);
    }

    [Fact]
    public void Explicit_deny_anywhere_wins()
    {
        var allow = Identity(Statement("Allow", "ecr:*", "*"));
        var denyInResource = Resource(Statement("Deny", "ecr:BatchGetImage", principal: "\"*\""));
        var decision = PolicyEvaluator.Evaluate(Request(Alice, A), [allow], denyInResource);
        Assert.Equal(DecisionKind.ExplicitDeny, decision.Kind);
        Assert.Equal("with an explicit deny in a resource-based policy", decision.Reason);
        Assert.Equal(DecisionKind.ExplicitDeny, PolicyEvaluator.Evaluate(Request($"arn:aws:iam::{A}:root", A), [], denyInResource).Kind);
        Assert.Equal(DecisionKind.ExplicitDeny, PolicyEvaluator.Evaluate(Request(Alice, A), [allow, Identity(Statement("Deny", "ecr:Batch*", Repo))], null).Kind);
    }

    [Fact]
    public void Not_action_not_resource_and_wildcards_match_as_iam_does()
    {
        var notDelete = Identity("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"ecr:Delete*","Resource":"arn:aws:ecr:*:111111111111:repository/team/*"}]}""");
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A, "ecr:PutImage"), [notDelete], null).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, "ecr:DeleteRepository"), [notDelete], null).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, resource: "arn:aws:ecr:us-east-1:111111111111:repository/other/app"), [notDelete], null).Allowed);

        var notResource = Identity("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ECR:batch?etImage","NotResource":"arn:aws:ecr:us-east-1:111111111111:repository/secret"}]}""");
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A), [notResource], null).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, resource: "arn:aws:ecr:us-east-1:111111111111:repository/secret"), [notResource], null).Allowed);
    }

    [Fact]
    public void Policy_variables_are_substituted()
    {
        var own = Identity(Statement("Allow", "ecr:*", "arn:aws:ecr:*:111111111111:repository/home/${aws:username}/*"));
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A, resource: "arn:aws:ecr:us-east-1:111111111111:repository/home/alice/app"), [own], null).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, resource: "arn:aws:ecr:us-east-1:111111111111:repository/home/bob/app"), [own], null).Allowed);
    }

    [Theory]
    [InlineData(",\"Version\":\"2008-10-17\"")]
    [InlineData("")]
    public void Policy_variables_are_literal_text_in_a_2008_10_17_policy_or_one_without_a_version(string version)
    {
        // IAM: variables are only recognised with Version 2012-10-17; before, ${aws:username} is literal.
        var old = Identity("""{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111111111111:repository/home/${aws:username}/*"}]""" + version + "}");
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, resource: "arn:aws:ecr:us-east-1:111111111111:repository/home/alice/app"), [old], null).Allowed);
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A, resource: "arn:aws:ecr:us-east-1:111111111111:repository/home/${aws:username}/app"), [old], null).Allowed);

        // Condition values alike: a 2008 policy compares with the text "${aws:username}".
        var condition = Identity("""{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/${aws:username}"}}}]""" + version + "}");
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A), [condition], null).Allowed);
        var current = Identity("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/${aws:username}"}}}]}""");
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A), [current], null).Allowed);
    }

    [Theory]
    [InlineData("""{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.1.7"]}}""", "aws:SourceIp", "10.20.30.40", true)]
    [InlineData("""{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}""", "aws:SourceIp", "11.0.0.1", false)]
    [InlineData("""{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}""", "aws:SourceIp", "11.0.0.1", true)]
    [InlineData("""{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}""", "aws:SourceIp", "2001:db8::1", true)]
    [InlineData("""{"Bool":{"aws:SecureTransport":"true"}}""", "aws:SecureTransport", "false", false)]
    [InlineData("""{"StringLike":{"aws:PrincipalTag/team":"plat*"}}""", "aws:PrincipalTag/team", "platform", true)]
    [InlineData("""{"StringEquals":{"aws:RequestTag/env":["dev","test"]}}""", "aws:RequestTag/env", "prod", false)]
    [InlineData("""{"StringNotEquals":{"aws:RequestTag/env":"prod"}}""", "aws:RequestTag/env", "dev", true)]
    [InlineData("""{"StringEqualsIgnoreCase":{"aws:RequestTag/env":"DEV"}}""", "aws:RequestTag/env", "dev", true)]
    [InlineData("""{"NumericLessThan":{"ecr:count":"10"}}""", "ecr:count", "9.5", true)]
    [InlineData("""{"NumericGreaterThanEquals":{"ecr:count":"10"}}""", "ecr:count", "9", false)]
    [InlineData("""{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}""", "aws:CurrentTime", "2026-11-24T12:00:00Z", true)]
    [InlineData("""{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}""", "aws:CurrentTime", "2026-11-24T12:00:00Z", false)]
    [InlineData("""{"ArnLike":{"aws:SourceArn":"arn:aws:ecr:*:111111111111:repository/*"}}""", "aws:SourceArn", "arn:aws:ecr:eu-west-1:111111111111:repository/x", true)]
    [InlineData("""{"Null":{"aws:TokenIssueTime":"true"}}""", "aws:TokenIssueTime", "2026-11-24T12:00:00Z", false)]
    public void Condition_operators_decide(string condition, string key, string value, bool allowed)
    {
        var policy = Identity(Statement("Allow", "ecr:BatchGetImage", Repo, condition: condition));
        var request = Request(Alice, A, keys: new() { [key] = [value] });
        Assert.Equal(allowed, PolicyEvaluator.Evaluate(request, [policy], null).Allowed);
    }

    [Fact]
    public void Absent_keys_fail_positive_operators_pass_negated_ones_and_if_exists()
    {
        bool Allowed(string condition) => PolicyEvaluator.Evaluate(Request(Alice, A), [Identity(Statement("Allow", "ecr:BatchGetImage", Repo, condition: condition))], null).Allowed;
        Assert.False(Allowed("""{"StringEquals":{"aws:RequestTag/env":"dev"}}"""));
        Assert.True(Allowed("""{"StringNotEquals":{"aws:RequestTag/env":"dev"}}"""));
        Assert.True(Allowed("""{"StringEqualsIfExists":{"aws:RequestTag/env":"dev"}}"""));
        Assert.True(Allowed("""{"Null":{"aws:RequestTag/env":"true"}}"""));
        Assert.False(Allowed("""{"Null":{"aws:RequestTag/env":"false"}}"""));
        Assert.True(Allowed("""{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}"""));
        Assert.False(Allowed("""{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}"""));
    }

    [Theory]
    [InlineData(new[] { "env" }, true, true)]
    [InlineData(new[] { "env", "team" }, true, true)]
    [InlineData(new[] { "env", "cost" }, false, true)]
    [InlineData(new[] { "cost" }, false, false)]
    public void Set_qualifiers_compare_multi_valued_keys(string[] tagKeys, bool forAll, bool forAny)
    {
        var request = Request(Alice, A, keys: new() { ["aws:TagKeys"] = tagKeys });
        var all = Identity(Statement("Allow", "ecr:TagResource", Repo, condition: """{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}"""));
        var any = Identity(Statement("Allow", "ecr:TagResource", Repo, condition: """{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}"""));
        Assert.Equal(forAll, PolicyEvaluator.Evaluate(request with { Action = "ecr:TagResource" }, [all], null).Allowed);
        Assert.Equal(forAny, PolicyEvaluator.Evaluate(request with { Action = "ecr:TagResource" }, [any], null).Allowed);
    }

    [Fact]
    public void Conditions_and_keys_are_anded_values_ored()
    {
        var policy = Identity(Statement("Allow", "ecr:BatchGetImage", Repo, condition: """{"StringEquals":{"aws:RequestTag/env":["dev","test"],"aws:RequestTag/team":"a"},"Bool":{"aws:SecureTransport":"true"}}"""));
        Dictionary<string, string[]> Keys(string env, string team, string secure) => new() { ["aws:RequestTag/env"] = [env], ["aws:RequestTag/team"] = [team], ["aws:SecureTransport"] = [secure] };
        Assert.True(PolicyEvaluator.Evaluate(Request(Alice, A, keys: Keys("test", "a", "true")), [policy], null).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, keys: Keys("test", "b", "true")), [policy], null).Allowed);
        Assert.False(PolicyEvaluator.Evaluate(Request(Alice, A, keys: Keys("test", "a", "false")), [policy], null).Allowed);
    }

    [Theory]
    [InlineData("{not json", "malformed")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Colour":"blue"}]}""", "unknown element 'Colour'")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"ecr:*","Resource":"*"}]}""", "Effect 'Maybe'")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Sid":"s1","Effect":"Allow","Action":"ecr:*","Resource":"not-an-arn"}]}""", "statement 's1' has resource 'not-an-arn'")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"BatchGetImage","Resource":"*"}]}""", "action 'BatchGetImage'")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringSorta":{"a":"b"}}}]}""", "unknown condition operator 'StringSorta'")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","NotAction":"ecr:Get*","Resource":"*"}]}""", "both Action and NotAction")]
    [InlineData("""{"Version":"2001-01-01","Statement":[]}""", "Version must be")]
    public void Invalid_documents_are_refused_with_a_pointed_message(string json, string expected)
    {
        var error = Assert.Throws<PolicyFormatException>(() => PolicyDocument.Parse(json, isResourcePolicy: false));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resource_policies_need_principals_and_identity_policies_may_not_have_them()
    {
        Assert.Throws<PolicyFormatException>(() => PolicyDocument.Parse(Statement("Allow", "ecr:*"), isResourcePolicy: true));
        Assert.Throws<PolicyFormatException>(() => PolicyDocument.Parse(Statement("Allow", "ecr:*", principal: "\"*\""), isResourcePolicy: false));
        Assert.Throws<PolicyFormatException>(() => PolicyDocument.Parse(Statement("Allow", "ecr:*", principal: """{"AWS":"bob"}"""), isResourcePolicy: true));
    }

    [Fact]
    public void A_matching_deny_anywhere_always_denies_and_adding_an_allow_never_undoes_it()
    {
        var random = new Random(20261124);
        string[] actions = ["ecr:*", "ecr:BatchGetImage", "ecr:Put*", "ecr:Batch*", "*", "ecr:DeleteRepository"];
        string[] resources = ["*", Repo, "arn:aws:ecr:*:111111111111:repository/*", "arn:aws:ecr:us-east-1:111111111111:repository/other"];
        string[] principals = [Alice, Bob, $"arn:aws:iam::{A}:root", $"arn:aws:iam::{B}:root"];
        for (var i = 0; i < 500; i++)
        {
            string RandomStatements(bool resource) => string.Join(',', Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
                $$"""{"Effect":"{{(random.Next(4) == 0 ? "Deny" : "Allow")}}","Action":"{{actions[random.Next(actions.Length)]}}",{{(resource ? $$"""Principal":{"AWS":"{{principals[random.Next(principals.Length)]}}"}""" : $"\"Resource\":\"{resources[random.Next(resources.Length)]}\"")}}}"""));
            var identity = Identity($$"""{"Version":"2012-10-17","Statement":[{{RandomStatements(false)}}]}""");
            var resource = Resource($$"""{"Version":"2012-10-17","Statement":[{{RandomStatements(true).Replace(",Principal", ",\"Principal", StringComparison.Ordinal)}}]}""");
            var principal = principals[random.Next(principals.Length)];
            var request = Request(principal, principal.Split(':')[4]);
            var before = PolicyEvaluator.Evaluate(request, [identity], resource);

            var deny = Identity(Statement("Deny", "ecr:BatchGetImage", Repo));
            Assert.Equal(DecisionKind.ExplicitDeny, PolicyEvaluator.Evaluate(request, [identity, deny], resource).Kind);

            var allowAll = Identity(Statement("Allow", "*", "*"));
            var after = PolicyEvaluator.Evaluate(request, [identity, allowAll], resource);
            if (before.Kind == DecisionKind.ExplicitDeny)
            {
                Assert.Equal(DecisionKind.ExplicitDeny, after.Kind);
            }
        }
    }
}
