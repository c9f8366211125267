using Wharf.Core.Lifecycle;

namespace Wharf.Core.Tests.Lifecycle;

/// <summary>Lifecycle policy validation: ECR's field rules (ECR-NOTES §3.2) and its messages (§3.5).</summary>
public sealed class LifecyclePolicyTests
{
    private const string Prefix = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ";

    private static string Rule(int priority, string selection, string action = """{"type":"expire"}""") =>
        $$"""{"rulePriority":{{priority}},"selection":{{{selection}}},"action":{{action}}}""";

    private static string Policy(params string[] rules) => $$"""{"rules":[{{string.Join(",", rules)}}]}""";

    private static void Fails(string text, string detail)
    {
        var e = Assert.Throws<LifecyclePolicyException>(() => LifecyclePolicy.Parse(text));
        Assert.Equal(detail, e.Detail);
        Assert.Equal(Prefix + detail + "'", e.Message);
    }

    [Fact]
    public void A_valid_policy_parses_with_rules_in_priority_order()
    {
        var policy = LifecyclePolicy.Parse(Policy(
            Rule(4, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":30 """),
            Rule(1, """ "tagStatus":"tagged","tagPrefixList":["release"],"countType":"imageCountMoreThan","countNumber":5 """),
            Rule(2, """ "tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """),
            Rule(3, """ "tagStatus":"tagged","tagPatternList":["*-rc*"],"countType":"sinceImagePulled","countUnit":"days","countNumber":90 """, """{"type":"transition","targetStorageClass":"archive"}"""),
            Rule(5, """ "tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":180 """)));
        Assert.Equal([1, 2, 3, 4, 5], policy.Rules.Select(r => r.Priority));
        Assert.Equal(["release"], policy.Rules[0].TagPrefixes);
        Assert.Equal(LifecycleActionType.Transition, policy.Rules[2].Action);
        Assert.Equal(LifecycleTagStatus.Any, policy.Rules[3].TagStatus);
        Assert.Equal(StorageClass.Archive, policy.Rules[4].StorageClass);
    }

    [Fact]
    public void Wharf_accepts_expire_by_last_pull()
    {
        var policy = LifecyclePolicy.Parse(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90 """)));
        Assert.Equal(LifecycleActionType.Expire, Assert.Single(policy.Rules).Action);
    }

    [Theory]
    [InlineData("not json", "Could not map policyString into LifecyclePolicy.")]
    [InlineData("[1]", "Could not map policyString into LifecyclePolicy.")]
    [InlineData("""{"rulez":[]}""", "object instance has properties which are not allowed by the schema: ([\"rulez\"])")]
    [InlineData("{}", "object has missing required properties ([\"rules\"])")]
    [InlineData("""{"rules":[]}""", "array is too short: must have at least 1 elements but instance has 0 elements")]
    [InlineData("""{"rules":["x"]}""", "instance type (string) does not match any allowed primitive type (allowed: [\"object\"])")]
    [InlineData("""{"rules":[{"rulePriority":1}]}""", "object has missing required properties ([\"action\",\"selection\"])")]
    public void Malformed_documents_are_refused_with_ecrs_schema_messages(string text, string detail) => Fails(text, detail);

    [Fact]
    public void Every_field_rule_has_its_message()
    {
        Fails(Policy(Rule(0, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":1 """)), "numeric instance is lower than the required minimum (minimum: 1, found: 0)");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":0 """)), "numeric instance is lower than the required minimum (minimum: 1, found: 0)");
        Fails(Policy(Rule(1, """ "tagStatus":"some","countType":"imageCountMoreThan","countNumber":1 """)), "instance value (some) not found in enum :(possible values: [\"tagged\",\"untagged\",\"any\"])");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"imageCountLessThan","countNumber":1 """)), "instance failed to match exactly one schema (matched 0 out of 2)");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":1,"extra":1 """)), "object instance has properties which are not allowed by the schema: ([\"extra\"])");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePushed","countUnit":"hours","countNumber":1 """)), "instance value (hours) not found in enum :(possible values: [\"days\"])");
        Fails(Policy(Rule(1, """ "tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1 """)), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.");
        Fails(Policy(Rule(1, """ "tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["b*"],"countType":"imageCountMoreThan","countNumber":1 """)), "Cannot specify both tagPrefixList and tagPatternList in one rule (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"untagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1 """)), "tagPrefixList and tagPatternList are only allowed when tagStatus=TAGGED (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"imageCountMoreThan","countUnit":"days","countNumber":1 """)), "countUnit cannot be specified when countType is imageCountMoreThan");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePushed","countNumber":1 """)), "countUnit is required when countType is sinceImagePushed");
        Fails(Policy(Rule(1, """ "tagStatus":"tagged","tagPatternList":["test*1*2*3*4*5*6"],"countType":"imageCountMoreThan","countNumber":1 """)), "tagPatternList entry 'test*1*2*3*4*5*6' has more than 4 wildcards (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":1 """)), "storageClass must be archive when countType is sinceImageTransitioned (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"any","storageClass":"archive","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """)), "storageClass archive can only be selected with countType sinceImageTransitioned (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":1 """, """{"type":"transition"}""")), "targetStorageClass is required when action type is transition (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """, """{"type":"expire","targetStorageClass":"archive"}""")), "targetStorageClass is only allowed when action type is transition (rule with rulePriority 1).");
        Fails(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """, """{"type":"delete"}""")), "instance value (delete) not found in enum :(possible values: [\"expire\",\"transition\"])");
        Fails(Policy(Rule(1, """ "tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":1 """, """{"type":"transition","targetStorageClass":"archive"}""")), "Images in archive can only be expired (rule with rulePriority 1).");
    }

    [Fact]
    public void Pattern_lists_allow_four_wildcards()
    {
        LifecyclePolicy.Parse(Policy(Rule(1, """ "tagStatus":"tagged","tagPatternList":["*test*1*2*3","test*1*2*3*"],"countType":"imageCountMoreThan","countNumber":1 """)));
    }

    [Fact]
    public void Policy_wide_rules_any_last_one_untagged_unique_priorities_per_storage_class()
    {
        Fails(
            Policy(
                Rule(1, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":1 """),
                Rule(2, """ "tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1 """)),
            "Rule for tagStatus=ANY must have the lowest priority per storage class");
        Fails(
            Policy(
                Rule(1, """ "tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1 """),
                Rule(2, """ "tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """)),
            "Only one rule can select Untagged images per storage class");
        Fails(
            Policy(
                Rule(1, """ "tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1 """),
                Rule(1, """ "tagStatus":"tagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1 """)),
            "rulePriority 1 is used by more than one rule; rule priorities must be unique.");

        Fails(
            Policy(
                Rule(1, """ "tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":5 """),
                Rule(2, """ "tagStatus":"tagged","tagPrefixList":["v1","prod"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30 """)),
            "The set of rules selecting a given storage class must have unique prefixes; tagPrefixList entry 'prod' is used by rules 1 and 2.");

        // Distinct prefixes are fine, and "unique" is per storage class (the archive rule may reuse one).
        LifecyclePolicy.Parse(Policy(
            Rule(1, """ "tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":5 """),
            Rule(2, """ "tagStatus":"tagged","tagPrefixList":["prod-"],"countType":"imageCountMoreThan","countNumber":5 """),
            Rule(3, """ "tagStatus":"tagged","tagPrefixList":["prod"],"storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":1 """)));

        // "Last" is per storage class: an any rule for standard may precede an archive rule.
        LifecyclePolicy.Parse(Policy(
            Rule(1, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":1 """),
            Rule(2, """ "tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":1 """)));
    }
}
