using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Lifecycle;
using Wharf.Core.Primitives;

namespace Wharf.Core.Tests.Lifecycle;

/// <summary>ECR's lifecycle evaluation (ECR-NOTES §3.3): the user guide's worked examples, each count type, and properties of every plan.</summary>
public sealed class LifecycleEvaluatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static LifecycleImage Image(string name, TimeSpan age, params string[] tags) =>
        new(Digest.Parse("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))), tags, Now - age, null, StorageClass.Standard, null, null, false);

    private static string Rule(int priority, string selection, string action = """{"type":"expire"}""") =>
        $$"""{"rulePriority":{{priority}},"selection":{{{selection}}},"action":{{action}}}""";

    private static LifecyclePolicy Policy(params string[] rules) => LifecyclePolicy.Parse($$"""{"rules":[{{string.Join(",", rules)}}]}""");

    private static Dictionary<LifecycleImage, LifecycleDecision> Plan(LifecyclePolicy policy, params LifecycleImage[] images) =>
        LifecycleEvaluator.Plan(policy, images, Now).ToDictionary(d => d.Image, d => d);

    private static HashSet<LifecycleImage> Expired(LifecyclePolicy policy, params LifecycleImage[] images) =>
        LifecycleEvaluator.Plan(policy, images, Now).Where(d => d.Outcome == LifecycleOutcome.Expire).Select(d => d.Image).ToHashSet();

    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    [Fact]
    public void User_guide_example_higher_rules_protect_what_they_select_and_lower_rules_still_count_it()
    {
        // ECR user guide, "Lifecycle policy evaluation": rule 1 keeps one alpha image, rule 2 expires
        // untagged images older than a day, rule 3 keeps one image of any kind.
        var a = Image("A", 4 * Day, "alpha-1", "beta-1");
        var b = Image("B", 3 * Day);
        var c = Image("C", 2 * Day, "alpha-2");
        var d = Image("D", 1 * Day, "git-hash");
        var e = Image("E", 1 * Day - TimeSpan.FromHours(1));
        var policy = Policy(
            Rule(1, """ "tagStatus":"tagged","tagPrefixList":["alpha"],"countType":"imageCountMoreThan","countNumber":1 """),
            Rule(2, """ "tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """),
            Rule(3, """ "tagStatus":"any","countType":"imageCountMoreThan","countNumber":1 """));
        var plan = Plan(policy, a, b, c, d, e);
        Assert.Equal(new HashSet<LifecycleImage>([a, b, d]), Expired(policy, a, b, c, d, e));
        Assert.Equal(1, plan[a].RulePriority);
        Assert.Equal(2, plan[b].RulePriority);
        Assert.Equal(3, plan[d].RulePriority);
        Assert.Equal((LifecycleOutcome.Keep, 1), (plan[c].Outcome, plan[c].RulePriority)); // kept by rule 1, untouchable by rule 3
        Assert.Equal((LifecycleOutcome.Keep, 2), (plan[e].Outcome, plan[e].RulePriority));
    }

    [Fact]
    public void User_guide_example_with_multiple_tags_and_its_swapped_priorities()
    {
        var a = Image("A", 10 * Day, "beta-1", "prod-1");
        var b = Image("B", 9 * Day, "beta-2", "prod-2");
        var c = Image("C", 8 * Day, "beta-3");
        const string Prod = """ "tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1 """;
        const string Beta = """ "tagStatus":"tagged","tagPrefixList":["beta"],"countType":"imageCountMoreThan","countNumber":1 """;
        Assert.Equal(new HashSet<LifecycleImage>([a]), Expired(Policy(Rule(1, Prod), Rule(2, Beta)), a, b, c));
        Assert.Equal(new HashSet<LifecycleImage>([a, b]), Expired(Policy(Rule(1, Beta), Rule(2, Prod)), a, b, c));
    }

    [Fact]
    public void Prefix_and_pattern_lists_are_anded_and_a_tag_can_serve_several_entries()
    {
        var both = Image("both", 5 * Day, "prod", "v1-release");
        var one = Image("one", 5 * Day, "prod");
        var prefixes = Policy(Rule(1, """ "tagStatus":"tagged","tagPrefixList":["prod","v1"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1 """));
        Assert.Equal(new HashSet<LifecycleImage>([both]), Expired(prefixes, both, one));
        var patterns = Policy(Rule(1, """ "tagStatus":"tagged","tagPatternList":["*rel*","v1-*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1 """));
        Assert.Equal(new HashSet<LifecycleImage>([both]), Expired(patterns, both, one));
        var contains = Policy(Rule(1, """ "tagStatus":"tagged","tagPatternList":["*ro*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1 """));
        Assert.Equal(new HashSet<LifecycleImage>([both, one]), Expired(contains, both, one));
    }

    [Theory]
    [InlineData("v?", "v1", false)]
    [InlineData("v?", "v?", true)]
    [InlineData("rel-?.*", "rel-1.0", false)]
    [InlineData("rel-?.*", "rel-?.0", true)]
    [InlineData("*-rc*", "1.0-rc2", true)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "acb", false)]
    [InlineData("ab*ba", "aba", false)]
    [InlineData("*", "anything", true)]
    public void Only_star_is_a_wildcard_in_a_tag_pattern(string pattern, string tag, bool selected)
    {
        // ECR's tagPatternList knows one wildcard, '*'; IAM's '?' is an ordinary character there.
        var image = Image(tag, 5 * Day, tag);
        var policy = Policy(Rule(1, $$""" "tagStatus":"tagged","tagPatternList":["{{pattern}}"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1 """));
        Assert.Equal(selected, Expired(policy, image).Contains(image));
    }

    [Fact]
    public void Count_keeps_the_youngest_by_push_or_by_last_restore()
    {
        var old = Image("old", 30 * Day, "v1") with { ActivatedAt = Now - TimeSpan.FromHours(1) };
        var mid = Image("mid", 10 * Day, "v2");
        var young = Image("young", 5 * Day, "v3");
        var policy = Policy(Rule(1, """ "tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":2 """));
        Assert.Equal(new HashSet<LifecycleImage>([mid]), Expired(policy, old, mid, young));
    }

    [Fact]
    public void Since_pulled_uses_the_last_pull_else_the_push_else_a_later_restore_and_transitions()
    {
        var pulledRecently = Image("pulled", 200 * Day, "a") with { LastPulledAt = Now - 10 * Day };
        var neverPulled = Image("never", 100 * Day, "b");
        var restored = Image("restored", 200 * Day, "c") with { LastPulledAt = Now - 150 * Day, ActivatedAt = Now - 2 * Day };
        var stale = Image("stale", 200 * Day, "d") with { LastPulledAt = Now - 120 * Day };
        var policy = Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90 """, """{"type":"transition","targetStorageClass":"archive"}"""));
        var plan = Plan(policy, pulledRecently, neverPulled, restored, stale);
        Assert.Equal(LifecycleOutcome.Keep, plan[pulledRecently].Outcome);
        Assert.Equal(LifecycleOutcome.Transition, plan[neverPulled].Outcome);
        Assert.Equal(LifecycleOutcome.Keep, plan[restored].Outcome);
        Assert.Equal(LifecycleOutcome.Transition, plan[stale].Outcome);
    }

    [Fact]
    public void Archive_rules_see_only_archived_images_and_never_expire_them_within_ninety_days()
    {
        var archivedLongAgo = Image("long", 400 * Day) with { StorageClass = StorageClass.Archive, ArchivedAt = Now - 100 * Day };
        var archivedLately = Image("lately", 400 * Day) with { StorageClass = StorageClass.Archive, ArchivedAt = Now - 40 * Day };
        var standard = Image("standard", 400 * Day);
        var policy = Policy(Rule(1, """ "tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":30 """));
        var plan = Plan(policy, archivedLongAgo, archivedLately, standard);
        Assert.Equal(LifecycleOutcome.Expire, plan[archivedLongAgo].Outcome);
        Assert.Equal(LifecycleOutcome.Keep, plan[archivedLately].Outcome);
        Assert.Equal((LifecycleOutcome.Keep, (int?)null), (plan[standard].Outcome, plan[standard].RulePriority));
    }

    [Fact]
    public void Index_children_are_held_while_their_index_lives()
    {
        var child = Image("child", 10 * Day) with { InIndex = true };
        var loose = Image("loose", 10 * Day);
        var plan = Plan(Policy(Rule(1, """ "tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1 """)), child, loose);
        Assert.Equal((LifecycleOutcome.Keep, true), (plan[child].Outcome, plan[child].HeldByIndex));
        Assert.Equal(LifecycleOutcome.Expire, plan[loose].Outcome);
    }

    [Fact]
    public void Every_plan_has_one_decision_per_image_acts_only_by_the_owning_rule_and_spares_live_index_children()
    {
        foreach (var (policy, images) in RandomCases(500))
        {
            var plan = LifecycleEvaluator.Plan(policy, images, Now);
            Assert.Equal(images.Count, plan.Count);
            Assert.Equal(images.Count, plan.Select(d => d.Image).Distinct().Count());
            foreach (var decision in plan)
            {
                var owner = policy.Rules.FirstOrDefault(r => LifecycleEvaluator.Selects(r, decision.Image));
                Assert.Equal(owner?.Priority, decision.RulePriority);
                Assert.False(decision.Image.InIndex && decision.Outcome != LifecycleOutcome.Keep, "an index child was acted on");
                if (decision.Outcome != LifecycleOutcome.Keep)
                {
                    Assert.Equal(owner!.Action == LifecycleActionType.Expire ? LifecycleOutcome.Expire : LifecycleOutcome.Transition, decision.Outcome);
                }
            }
        }
    }

    [Fact]
    public void The_two_pass_evaluation_decides_as_the_whole_repository_sorted_at_once_would()
    {
        // The reference: every rule sorts all the images it selects and acts beyond its count (the evaluator before
        // it ran in constant memory). Push times here are whole days, so ties are many and digests break them, and
        // some images were restored from the archive (ranked by their restore).
        var random = new Random(20261207);
        foreach (var (policy, original) in RandomCases(2000))
        {
            var images = original.Select(i => i with
            {
                PushedAt = Now - TimeSpan.FromDays(random.Next(0, 6)),
                ActivatedAt = random.Next(5) == 0 ? Now - TimeSpan.FromDays(random.Next(0, 3)) : null,
            }).ToList();
            var reference = ReferencePlan(policy, images);
            var plan = LifecycleEvaluator.Plan(policy, images, Now);
            Assert.Equal(reference, plan.Select(d => (d.Outcome, d.RulePriority, d.HeldByIndex)));

            // And fed as the store feeds it: youngest first for the count, then any order (here, oldest pushed first).
            var pass = new LifecyclePass(policy, Now);
            foreach (var image in images.Order(LifecycleEvaluator.YoungestFirst).TakeWhile(_ => pass.NeedsRanking))
            {
                pass.Rank(image);
            }

            var decided = images.OrderBy(i => i.PushedAt).Select(i => (i, pass.Decide(i))).ToDictionary(p => p.i, p => p.Item2);
            Assert.Equal(reference, images.Select(i => (decided[i].Outcome, decided[i].RulePriority, decided[i].HeldByIndex)));
        }
    }

    [Fact]
    public void The_first_pass_stops_once_every_count_rule_has_its_nth_youngest()
    {
        var policy = Policy(
            Rule(1, """ "tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":2 """),
            Rule(2, """ "tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1 """),
            Rule(3, """ "tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":5 """));
        var pass = new LifecyclePass(policy, Now);
        Assert.True(pass.NeedsRanking);
        pass.Rank(Image("u1", Day));
        pass.Rank(Image("v1", 2 * Day, "v1"));
        Assert.True(pass.NeedsRanking);
        pass.Rank(Image("v2", 3 * Day, "v2"));
        Assert.False(pass.NeedsRanking);

        Assert.Equal(LifecycleOutcome.Keep, pass.Decide(Image("v2", 3 * Day, "v2")).Outcome);
        Assert.Equal(LifecycleOutcome.Expire, pass.Decide(Image("v3", 4 * Day, "v3")).Outcome);
        Assert.Equal(LifecycleOutcome.Expire, pass.Decide(Image("u2", 2 * Day)).Outcome);
        Assert.False(new LifecyclePass(Policy(Rule(1, """ "tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":5 """)), Now).NeedsRanking);
    }

    // The evaluation as a whole-repository sort, rule by rule: (outcome, owning rule, held by an index) per image.
    private static List<(LifecycleOutcome, int?, bool)> ReferencePlan(LifecyclePolicy policy, IReadOnlyList<LifecycleImage> images)
    {
        var owner = images.ToDictionary(i => i, i => policy.Rules.FirstOrDefault(r => LifecycleEvaluator.Selects(r, i)));
        var acted = new HashSet<LifecycleImage>();
        foreach (var rule in policy.Rules)
        {
            var selected = images.Where(i => LifecycleEvaluator.Selects(rule, i)).ToList();
            var limit = TimeSpan.FromDays(rule.CountNumber);
            var beyond = rule.CountType switch
            {
                LifecycleCountType.ImageCountMoreThan => selected
                    .OrderByDescending(i => i.ActivatedAt ?? i.PushedAt)
                    .ThenByDescending(i => i.Digest.ToString(), StringComparer.Ordinal)
                    .Skip(rule.CountNumber),
                LifecycleCountType.SinceImagePushed => selected.Where(i => Now - i.PushedAt > limit),
                LifecycleCountType.SinceImagePulled => selected.Where(i => Now - new[] { i.PushedAt, i.LastPulledAt ?? i.PushedAt, i.ActivatedAt ?? i.PushedAt }.Max() > limit),
                _ => selected.Where(i => Now - (i.ArchivedAt ?? i.PushedAt) > (limit > LifecycleEvaluator.MinimumArchiveDuration ? limit : LifecycleEvaluator.MinimumArchiveDuration)),
            };
            acted.UnionWith(beyond.Where(i => owner[i] == rule));
        }

        return [.. images.Select(i => owner[i] is not { } rule ? (LifecycleOutcome.Keep, (int?)null, false)
            : !acted.Contains(i) ? (LifecycleOutcome.Keep, rule.Priority, false)
            : i.InIndex ? (LifecycleOutcome.Keep, rule.Priority, true)
            : (rule.Action == LifecycleActionType.Expire ? LifecycleOutcome.Expire : LifecycleOutcome.Transition, rule.Priority, false))];
    }

    [Fact]
    public void Adding_a_higher_priority_keep_rule_never_expires_more()
    {
        foreach (var (policy, images) in RandomCases(500))
        {
            var before = LifecycleEvaluator.Plan(policy, images, Now).Where(d => d.Outcome == LifecycleOutcome.Expire).Select(d => d.Image).ToHashSet();

            // A rule ahead of all others that keeps everything it selects (a count no repository reaches);
            // a pattern, since ECR wants the prefixes of a storage class's rules unique.
            var keep = Rule(0 + 1, """ "tagStatus":"tagged","tagPatternList":["v*"],"countType":"imageCountMoreThan","countNumber":100000 """);
            var shifted = policy.Rules.Select(r => r with { Priority = r.Priority + 1 }).ToList();
            var withKeep = LifecyclePolicy.Parse($$"""{"rules":[{{keep}},{{string.Join(",", shifted.Select(ToJson))}}]}""");
            var after = LifecycleEvaluator.Plan(withKeep, images, Now).Where(d => d.Outcome == LifecycleOutcome.Expire).Select(d => d.Image);
            Assert.All(after, image => Assert.Contains(image, before));
        }
    }

    // Random repositories and policies (fixed seed): tags from a small alphabet, ages, pulls, index children.
    private static IEnumerable<(LifecyclePolicy Policy, List<LifecycleImage> Images)> RandomCases(int count)
    {
        var random = new Random(20261125);
        string[] prefixes = ["v", "rel", "dev", "pr"];
        for (var n = 0; n < count; n++)
        {
            var images = Enumerable.Range(0, random.Next(0, 15)).Select(i =>
            {
                var tags = Enumerable.Range(0, random.Next(0, 3)).Select(_ => prefixes[random.Next(prefixes.Length)] + random.Next(10)).Distinct().ToArray();
                var image = Image($"{n}-{i}", TimeSpan.FromHours(random.Next(1, 24 * 60)), tags);
                return image with
                {
                    LastPulledAt = random.Next(3) == 0 ? Now - TimeSpan.FromHours(random.Next(1, 24 * 30)) : null,
                    InIndex = tags.Length == 0 && random.Next(4) == 0,
                };
            }).ToList();
            var rules = new List<string>();
            var priority = 1;
            foreach (var prefix in prefixes.Where(_ => random.Next(2) == 0))
            {
                rules.Add(random.Next(2) == 0
                    ? Rule(priority++, $$""" "tagStatus":"tagged","tagPrefixList":["{{prefix}}"],"countType":"imageCountMoreThan","countNumber":{{random.Next(1, 4)}} """)
                    : Rule(priority++, $$""" "tagStatus":"tagged","tagPatternList":["{{prefix}}*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":{{random.Next(1, 40)}} """));
            }

            if (random.Next(2) == 0)
            {
                rules.Add(Rule(priority++, $$""" "tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":{{random.Next(1, 20)}} """));
            }

            if (rules.Count == 0 || random.Next(2) == 0)
            {
                rules.Add(Rule(priority, $$""" "tagStatus":"any","countType":"imageCountMoreThan","countNumber":{{random.Next(1, 6)}} """));
            }

            yield return (LifecyclePolicy.Parse($$"""{"rules":[{{string.Join(",", rules)}}]}"""), images);
        }
    }

    private static string ToJson(LifecycleRule rule)
    {
        var tags = rule.TagPrefixes.Count > 0 ? $",\"tagPrefixList\":[\"{string.Join("\",\"", rule.TagPrefixes)}\"]"
            : rule.TagPatterns.Count > 0 ? $",\"tagPatternList\":[\"{string.Join("\",\"", rule.TagPatterns)}\"]" : string.Empty;
        var status = rule.TagStatus.ToString().ToLowerInvariant();
        var count = rule.CountType == LifecycleCountType.ImageCountMoreThan
            ? $"\"countType\":\"imageCountMoreThan\",\"countNumber\":{rule.CountNumber}"
            : $"\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":{rule.CountNumber}";
        return Rule(rule.Priority, $"\"tagStatus\":\"{status}\"{tags},{count}");
    }
}
