using Wharf.Core.Primitives;

namespace Wharf.Core.Lifecycle;

/// <summary>What the evaluator knows of an image.</summary>
/// <param name="Digest">The image's manifest digest.</param>
/// <param name="Tags">Its tags (empty: untagged).</param>
/// <param name="PushedAt">When it was pushed.</param>
/// <param name="LastPulledAt">When it was last pulled, if ever.</param>
/// <param name="StorageClass">Standard, or archived.</param>
/// <param name="ArchivedAt">When it was last archived, if it was.</param>
/// <param name="ActivatedAt">When it was last restored from the archive, if it was.</param>
/// <param name="InIndex">An image index in the repository references it: it is never acted on while that index lives.</param>
public sealed record LifecycleImage(
    Digest Digest,
    IReadOnlyList<string> Tags,
    DateTimeOffset PushedAt,
    DateTimeOffset? LastPulledAt,
    StorageClass StorageClass,
    DateTimeOffset? ArchivedAt,
    DateTimeOffset? ActivatedAt,
    bool InIndex);

public enum LifecycleOutcome
{
    Keep,
    Expire,
    Transition,
}

/// <summary>
/// What happens to one image, and which rule decided: the highest-priority rule whose selection
/// matched it (<see cref="RulePriority"/> is null when none did). A kept image with a rule was within
/// that rule's count or age; <see cref="HeldByIndex"/> says an index kept it from the rule's action.
/// </summary>
public sealed record LifecycleDecision(LifecycleImage Image, LifecycleOutcome Outcome, int? RulePriority, bool HeldByIndex);

/// <summary>
/// ECR's lifecycle evaluation (ECR-NOTES §3.3), pure: every rule looks at every image of its storage
/// class at once; an image can only be acted on by the first rule (by priority) whose tag selection
/// matches it — even if that rule keeps it — while lower rules still count it; <c>imageCountMoreThan</c>
/// keeps the youngest (by push, or by last restore); <c>since…</c> rules act on images older than N
/// days (archived ones no sooner than 90 days after archiving); images referenced by an index are
/// never acted on. One decision per image.
/// </summary>
public static class LifecycleEvaluator
{
    /// <summary>ECR's minimum time in the archive: lifecycle expires no image archived more recently.</summary>
    public static readonly TimeSpan MinimumArchiveDuration = TimeSpan.FromDays(90);

    public static IReadOnlyList<LifecycleDecision> Plan(LifecyclePolicy policy, IReadOnlyList<LifecycleImage> images, DateTimeOffset now)
    {
        // The rule that may act on each image: the first whose selection matches it.
        var owner = new Dictionary<LifecycleImage, LifecycleRule>(ReferenceEqualityComparer.Instance);
        foreach (var rule in policy.Rules)
        {
            foreach (var image in images.Where(i => Selects(rule, i)))
            {
                owner.TryAdd(image, rule);
            }
        }

        var acted = new Dictionary<LifecycleImage, LifecycleRule>(ReferenceEqualityComparer.Instance);
        foreach (var rule in policy.Rules)
        {
            var selected = images.Where(i => Selects(rule, i)).ToList();
            foreach (var image in Beyond(rule, selected, now))
            {
                if (owner[image] == rule)
                {
                    acted[image] = rule;
                }
            }
        }

        return images.Select(image =>
        {
            var rule = owner.GetValueOrDefault(image);
            if (rule is null || !acted.ContainsKey(image))
            {
                return new LifecycleDecision(image, LifecycleOutcome.Keep, rule?.Priority, false);
            }

            return image.InIndex
                ? new LifecycleDecision(image, LifecycleOutcome.Keep, rule.Priority, true)
                : new LifecycleDecision(image, rule.Action == LifecycleActionType.Expire ? LifecycleOutcome.Expire : LifecycleOutcome.Transition, rule.Priority, false);
        }).ToList();
    }

    /// <summary>Whether the rule's selection (storage class and tags) matches the image.</summary>
    public static bool Selects(LifecycleRule rule, LifecycleImage image) =>
        image.StorageClass == rule.StorageClass && rule.TagStatus switch
        {
            LifecycleTagStatus.Any => true,
            LifecycleTagStatus.Untagged => image.Tags.Count == 0,
            _ => image.Tags.Count > 0
                && rule.TagPrefixes.All(p => image.Tags.Any(t => t.StartsWith(p, StringComparison.Ordinal)))
                && rule.TagPatterns.All(p => image.Tags.Any(t => LifecyclePolicy.PatternMatches(p, t))),
        };

    // The selected images the rule's count or age puts beyond its limit.
    private static IEnumerable<LifecycleImage> Beyond(LifecycleRule rule, List<LifecycleImage> selected, DateTimeOffset now)
    {
        var limit = TimeSpan.FromDays(rule.CountNumber);
        return rule.CountType switch
        {
            LifecycleCountType.ImageCountMoreThan => selected
                .OrderByDescending(i => i.ActivatedAt ?? i.PushedAt)
                .ThenByDescending(i => i.Digest.ToString(), StringComparer.Ordinal)
                .Skip(rule.CountNumber),
            LifecycleCountType.SinceImagePushed => selected.Where(i => now - i.PushedAt > limit),
            LifecycleCountType.SinceImagePulled => selected.Where(i => now - Latest(i.PushedAt, i.LastPulledAt, i.ActivatedAt) > limit),
            _ => selected.Where(i => now - (i.ArchivedAt ?? i.PushedAt) > (limit > MinimumArchiveDuration ? limit : MinimumArchiveDuration)),
        };
    }

    private static DateTimeOffset Latest(DateTimeOffset pushed, DateTimeOffset? pulled, DateTimeOffset? activated)
    {
        var latest = pushed;
        if (pulled > latest)
        {
            latest = pulled.Value;
        }

        if (activated > latest)
        {
            latest = activated.Value;
        }

        return latest;
    }
}
