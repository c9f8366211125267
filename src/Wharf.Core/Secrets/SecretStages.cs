namespace Wharf.Core.Secrets;

/// <summary>
/// How staging labels move when a version is added (pure): each label the new version takes leaves the version
/// that had it; the version that loses <c>AWSCURRENT</c> takes <c>AWSPREVIOUS</c>; versions left with no label
/// are deprecated, and the oldest of them go once the secret holds more than <see cref="MaxVersions"/>.
/// </summary>
public static class SecretStages
{
    public const string Current = "AWSCURRENT";
    public const string Previous = "AWSPREVIOUS";
    public const string Pending = "AWSPENDING";

    /// <summary>
    /// Wharf's bound on the versions one secret keeps. Secrets Manager keeps about 100 (labelled versions are
    /// never removed; it removes deprecated ones past that), so does Wharf: staged versions always stay, the
    /// oldest unstaged go first.
    /// </summary>
    public const int MaxVersions = 100;

    /// <summary>The versions after <paramref name="added"/> joins <paramref name="versions"/> with its labels.</summary>
    public static IReadOnlyList<SecretVersion> Add(IReadOnlyList<SecretVersion> versions, SecretVersion added)
    {
        var taken = added.Stages.ToHashSet(StringComparer.Ordinal);
        var current = versions.FirstOrDefault(v => v.Stages.Contains(Current, StringComparer.Ordinal));
        var demoted = taken.Contains(Current) && current is not null && current.VersionId != added.VersionId ? current.VersionId : null;
        if (demoted is not null)
        {
            taken.Add(Previous);
        }

        var next = new List<SecretVersion>(versions.Count + 1);
        foreach (var version in versions.Where(v => v.VersionId != added.VersionId))
        {
            var stages = version.Stages.Where(s => !taken.Contains(s)).ToList();
            if (version.VersionId == demoted)
            {
                stages.Add(Previous);
            }

            next.Add(stages.Count == version.Stages.Count && stages.SequenceEqual(version.Stages, StringComparer.Ordinal) ? version : version with { Stages = stages });
        }

        next.Add(added);
        return Prune(next);
    }

    /// <summary>The staged versions and the newest unstaged ones, <see cref="MaxVersions"/> at most unless more are staged.</summary>
    public static IReadOnlyList<SecretVersion> Prune(IReadOnlyList<SecretVersion> versions)
    {
        var excess = versions.Count - MaxVersions;
        if (excess <= 0)
        {
            return versions;
        }

        // Versions come oldest first; the oldest deprecated ones go.
        var dropped = versions.Where(v => v.Stages.Count == 0).Take(excess).Select(v => v.VersionId).ToHashSet(StringComparer.Ordinal);
        return versions.Where(v => !dropped.Contains(v.VersionId)).ToList();
    }
}
