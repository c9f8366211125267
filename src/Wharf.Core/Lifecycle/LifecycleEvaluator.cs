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
/// <remarks>
/// It runs in two passes over the images, each holding one entry per rule, so a repository of any
/// size is evaluated in the same memory (<see cref="LifecyclePass"/>): the first reads images youngest
/// first until every count rule has found its N-th youngest image (its boundary); the second decides
/// each image alone, in any order — a count rule's image is beyond its count exactly when it is older
/// than the boundary.
/// </remarks>
public static class LifecycleEvaluator
{
    /// <summary>ECR's minimum time in the archive: lifecycle expires no image archived more recently.</summary>
    public static readonly TimeSpan MinimumArchiveDuration = TimeSpan.FromDays(90);

    /// <summary>The whole plan for images held in memory: one decision per image, in their order.</summary>
    public static IReadOnlyList<LifecycleDecision> Plan(LifecyclePolicy policy, IReadOnlyList<LifecycleImage> images, DateTimeOffset now)
    {
        var pass = new LifecyclePass(policy, now);
        foreach (var image in images.Order(YoungestFirst))
        {
            if (!pass.NeedsRanking)
            {
                break;
            }

            pass.Rank(image);
        }

        return images.Select(pass.Decide).ToList();
    }

    /// <summary>The order of the first pass: by last restore (else push) time, youngest first; ties by digest, descending.</summary>
    public static IComparer<LifecycleImage> YoungestFirst { get; } = Comparer<LifecycleImage>.Create(CompareYoungestFirst);

    /// <summary>The time <c>imageCountMoreThan</c> ranks an image by: its last restore from the archive, else its push.</summary>
    public static DateTimeOffset RankedAt(LifecycleImage image) => image.ActivatedAt ?? image.PushedAt;

    private static int CompareYoungestFirst(LifecycleImage? x, LifecycleImage? y)
    {
        var byTime = RankedAt(y!).CompareTo(RankedAt(x!));
        return byTime != 0 ? byTime : string.CompareOrdinal(y!.Digest.ToString(), x!.Digest.ToString());
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

    internal static DateTimeOffset Latest(DateTimeOffset pushed, DateTimeOffset? pulled, DateTimeOffset? activated)
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

/// <summary>
/// One evaluation of a policy, in constant memory (one boundary per count rule). Feed <see cref="Rank"/>
/// the images youngest first (<see cref="LifecycleEvaluator.YoungestFirst"/>) while
/// <see cref="NeedsRanking"/>; then <see cref="Decide"/> each image, in any order.
/// </summary>
public sealed class LifecyclePass
{
    private readonly LifecyclePolicy policy;
    private readonly DateTimeOffset now;
    private readonly int[] counted;
    private readonly LifecycleImage?[] boundary;
    private int open;

    public LifecyclePass(LifecyclePolicy policy, DateTimeOffset now)
    {
        this.policy = policy;
        this.now = now;
        counted = new int[policy.Rules.Count];
        boundary = new LifecycleImage?[policy.Rules.Count];
        open = policy.Rules.Count(r => r.CountType == LifecycleCountType.ImageCountMoreThan && r.CountNumber > 0);
    }

    /// <summary>Whether a count rule still looks for its N-th youngest image.</summary>
    public bool NeedsRanking => open > 0;

    /// <summary>Counts the next image (younger ones first) for every count rule that selects it.</summary>
    public void Rank(LifecycleImage image)
    {
        for (var i = 0; i < policy.Rules.Count; i++)
        {
            var rule = policy.Rules[i];
            if (rule.CountType == LifecycleCountType.ImageCountMoreThan && boundary[i] is null && LifecycleEvaluator.Selects(rule, image)
                && ++counted[i] == rule.CountNumber)
            {
                boundary[i] = image;
                open--;
            }
        }
    }

    /// <summary>The decision for one image: the first rule that selects it owns it, and acts if the image is beyond that rule's count or age.</summary>
    public LifecycleDecision Decide(LifecycleImage image)
    {
        for (var i = 0; i < policy.Rules.Count; i++)
        {
            var rule = policy.Rules[i];
            if (!LifecycleEvaluator.Selects(rule, image))
            {
                continue;
            }

            if (!Beyond(i, rule, image))
            {
                return new LifecycleDecision(image, LifecycleOutcome.Keep, rule.Priority, false);
            }

            return image.InIndex
                ? new LifecycleDecision(image, LifecycleOutcome.Keep, rule.Priority, true)
                : new LifecycleDecision(image, rule.Action == LifecycleActionType.Expire ? LifecycleOutcome.Expire : LifecycleOutcome.Transition, rule.Priority, false);
        }

        return new LifecycleDecision(image, LifecycleOutcome.Keep, null, false);
    }

    // Whether the rule's count or age puts the image (which it selects) beyond its limit.
    private bool Beyond(int index, LifecycleRule rule, LifecycleImage image)
    {
        var limit = TimeSpan.FromDays(rule.CountNumber);
        return rule.CountType switch
        {
            // Keep the N youngest: beyond when older than the N-th (none is, while fewer were counted).
            LifecycleCountType.ImageCountMoreThan => rule.CountNumber == 0
                || (boundary[index] is { } nth && LifecycleEvaluator.YoungestFirst.Compare(image, nth) > 0),
            LifecycleCountType.SinceImagePushed => now - image.PushedAt > limit,
            LifecycleCountType.SinceImagePulled => now - LifecycleEvaluator.Latest(image.PushedAt, image.LastPulledAt, image.ActivatedAt) > limit,
            _ => now - (image.ArchivedAt ?? image.PushedAt) > (limit > LifecycleEvaluator.MinimumArchiveDuration ? limit : LifecycleEvaluator.MinimumArchiveDuration),
        };
    }
}
