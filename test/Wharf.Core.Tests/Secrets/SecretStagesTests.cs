using Wharf.Core.Secrets;

namespace Wharf.Core.Tests.Secrets;

public sealed class SecretStagesTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static SecretVersion Version(string id, params string[] stages) => new(id, [1], false, stages, T0);

    private static string Stages(IReadOnlyList<SecretVersion> versions) =>
        string.Join(" ", versions.Select(v => $"{v.VersionId}:{string.Join(',', v.Stages)}"));

    [Fact]
    public void A_new_current_version_demotes_the_current_one_to_previous_and_the_previous_one_to_none()
    {
        var versions = SecretStages.Add([Version("a", "AWSPREVIOUS"), Version("b", "AWSCURRENT", "blue")], Version("c", "AWSCURRENT"));
        Assert.Equal("a: b:blue,AWSPREVIOUS c:AWSCURRENT", Stages(versions));
    }

    [Fact]
    public void A_custom_stage_moves_alone_and_leaves_current_where_it_is()
    {
        var versions = SecretStages.Add([Version("a", "AWSCURRENT", "blue")], Version("b", "blue"));
        Assert.Equal("a:AWSCURRENT b:blue", Stages(versions));
    }

    [Fact]
    public void Past_the_bound_the_oldest_unstaged_versions_go_and_staged_ones_stay()
    {
        var versions = new List<SecretVersion> { Version("staged-old", "keep") };
        versions.AddRange(Enumerable.Range(0, SecretStages.MaxVersions - 2).Select(i => Version($"u{i}")));
        versions.Add(Version("current", "AWSCURRENT"));
        var next = SecretStages.Add(versions, Version("new", "AWSCURRENT"));
        Assert.Equal(SecretStages.MaxVersions, next.Count);
        Assert.Contains(next, v => v.VersionId == "staged-old");
        Assert.DoesNotContain(next, v => v.VersionId == "u0");
        Assert.Contains(next, v => v.VersionId == "u1");
        Assert.Equal(["AWSPREVIOUS"], next.Single(v => v.VersionId == "current").Stages);
    }
}
