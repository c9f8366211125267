using Wharf.Scanning.Versions;

namespace Wharf.Scanning.Tests.Versions;

/// <summary>
/// Each ecosystem's version order, from its own documentation's examples: ascending chains (every
/// pair in order), equal spellings, and properties every order must have on generated versions.
/// </summary>
public sealed class VersionOrderTests
{
    public static TheoryData<string, string[]> Ascending => new()
    {
        // Debian Policy §5.6.12: '~' before everything, even the end; letters before other characters; epochs first.
        { "dpkg", ["0.9", "1.0~~", "1.0~~a", "1.0~", "1.0~rc1", "1.0", "1.0-0.1", "1.0-1", "1.0-1ubuntu1", "1.0-2", "1.0a", "1.0+", "1.0+b1", "1.0.1", "1.2", "1.10", "1:0.1"] },
        { "dpkg", ["2.36-9+deb12u3", "2.36-9+deb12u4", "2.36-9+deb12u10", "2.36-10"] },

        // rpmvercmp: '~' pre-releases, '^' snapshots after the release, numbers newer than letters, epochs first.
        { "rpm", ["1.0~rc1", "1.0~rc2", "1.0", "1.0^git1", "1.0^git2", "1.0a", "1.0.1", "1.1", "1.10", "2.0-1.el8", "2.0-2.el8", "2.0-10.el8", "1:0.1"] },

        // apk-tools: suffixes alpha < beta < pre < rc < none < cvs < svn < git < hg < p; the letter before suffixes; -r last.
        { "apk", ["1.0_alpha", "1.0_alpha1", "1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0", "1.0-r1", "1.0-r2", "1.0_cvs", "1.0_git20240101", "1.0_p1", "1.0_p2", "1.0a", "1.0b", "1.0.1", "1.2", "1.10"] },

        // SemVer 2.0.0 §11's own example, then core numbers (and NuGet's fourth).
        { "semver", ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.0.1.1", "1.1.0", "1.10.0", "2.0.0", "v2.1.0"] },

        // PEP 440's own example of a sorted list.
        { "pep440", ["1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "1!0.1"] },

        // Maven ComparableVersion: qualifiers, then numbers.
        { "maven", ["1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123"] },
        { "maven", ["2.0", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11"] },
    };

    public static TheoryData<string, string, string> Equal => new()
    {
        { "dpkg", "1.0", "0:1.0" }, { "dpkg", "1.0", "1.0-0" }, { "dpkg", "1.01", "1.1" },
        { "rpm", "1.0", "0:1.0" }, { "rpm", "1.01", "1.1" }, { "rpm", "1.0", "1_0" },
        { "apk", "1.2.3", "1.2.3-r0" }, { "apk", "1.0_p", "1.0_p0" },
        { "semver", "1.0.0+build.5", "1.0.0" }, { "semver", "v1.2.3", "1.2.3" }, { "semver", "1.2", "1.2.0" },
        { "pep440", "1.0", "1.0.0" }, { "pep440", "1.0alpha1", "1.0a1" }, { "pep440", "1.0-rc-1", "1.0rc1" }, { "pep440", "1.0-1", "1.0.post1" },
        { "pep440", "1.0.post", "1.0.post0" }, { "pep440", "v1.0", "1.0" }, { "pep440", "1.0c1", "1.0rc1" },
        { "maven", "1", "1.0.0" }, { "maven", "1", "1-ga" }, { "maven", "1", "1.final" }, { "maven", "1", "1-release" },
        { "maven", "1a1", "1-alpha-1" }, { "maven", "1cr1", "1rc1" }, { "maven", "1.0-RC1", "1.0-rc-1" },
    };

    [Theory]
    [MemberData(nameof(Ascending))]
    public void Every_pair_of_an_ascending_chain_is_in_order(string scheme, string[] versions)
    {
        var compare = Scheme(scheme);
        for (var i = 0; i < versions.Length; i++)
        {
            for (var j = 0; j < versions.Length; j++)
            {
                var expected = i.CompareTo(j);
                var actual = Math.Sign(compare(versions[i], versions[j]));
                Assert.True(expected == actual, $"{scheme}: compare({versions[i]}, {versions[j]}) = {actual}, expected {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Equal))]
    public void Equal_spellings_compare_equal(string scheme, string a, string b)
    {
        Assert.Equal(0, Scheme(scheme)(a, b));
        Assert.Equal(0, Scheme(scheme)(b, a));
    }

    [Theory]
    [InlineData("dpkg")]
    [InlineData("rpm")]
    [InlineData("apk")]
    [InlineData("semver")]
    [InlineData("pep440")]
    [InlineData("maven")]
    public void Orders_are_reflexive_antisymmetric_and_transitive_on_generated_versions(string scheme)
    {
        var compare = Scheme(scheme);
        var random = new Random(42);
        var versions = Enumerable.Range(0, 120).Select(_ => Generate(scheme, random)).ToList();
        foreach (var a in versions)
        {
            Assert.Equal(0, compare(a, a));
            foreach (var b in versions)
            {
                Assert.True(Math.Sign(compare(a, b)) == -Math.Sign(compare(b, a)), $"{scheme}: {a} vs {b} is not antisymmetric");
            }
        }

        // Sorting with the order and checking every adjacent pair and a sample of triples.
        var sorted = versions.ToList();
        sorted.Sort((x, y) => compare(x, y));
        for (var i = 0; i + 1 < sorted.Count; i++)
        {
            Assert.True(compare(sorted[i], sorted[i + 1]) <= 0, $"{scheme}: {sorted[i]} > {sorted[i + 1]} after sorting");
        }

        for (var n = 0; n < 2000; n++)
        {
            var (a, b, c) = (versions[random.Next(versions.Count)], versions[random.Next(versions.Count)], versions[random.Next(versions.Count)]);
            if (compare(a, b) <= 0 && compare(b, c) <= 0)
            {
                Assert.True(compare(a, c) <= 0, $"{scheme}: {a} <= {b} <= {c} but {a} > {c}");
            }
        }
    }

    [Fact]
    public void Osv_ecosystems_map_to_their_orders()
    {
        Assert.NotNull(VersionComparers.For("Debian:12"));
        Assert.Equal(-1, Math.Sign(VersionComparers.For("Debian:12")!("1.0~rc1", "1.0")));
        Assert.Equal(-1, Math.Sign(VersionComparers.For("Alpine:v3.20")!("1.0_rc1", "1.0")));
        Assert.Equal(-1, Math.Sign(VersionComparers.For("PyPI")!("1.0.dev1", "1.0a1")));
        Assert.Equal(-1, Math.Sign(VersionComparers.For("npm")!("1.0.0-rc.1", "1.0.0")));
        Assert.Equal(-1, Math.Sign(VersionComparers.For("Maven")!("1.0-SNAPSHOT", "1.0")));
        Assert.Equal(-1, Math.Sign(VersionComparers.For("Red Hat:enterprise_linux:9")!("1.0~rc1", "1.0")));
        Assert.Null(VersionComparers.For("Hackage"));
    }

    private static Comparison<string> Scheme(string name) => name switch
    {
        "dpkg" => DpkgVersion.Compare,
        "rpm" => RpmVersion.Compare,
        "apk" => ApkVersion.Compare,
        "semver" => SemanticVersion.Compare,
        "pep440" => Pep440Version.Compare,
        _ => MavenVersion.Compare,
    };

    private static string Generate(string scheme, Random random)
    {
        string Pick(params string[] options) => options[random.Next(options.Length)];
        string Numbers(int max) => string.Join('.', Enumerable.Range(0, random.Next(1, max + 1)).Select(_ => random.Next(0, 12).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var n = random.Next(0, 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return scheme switch
        {
            "dpkg" => Pick("", "1:", "2:") + Numbers(3) + Pick("", "~rc" + n, "~", "a", "+b" + n, "+dfsg") + Pick("", "-" + n, "-" + n + "ubuntu" + n, "-0+deb12u" + n),
            "rpm" => Pick("", "1:") + Numbers(3) + Pick("", "~rc" + n, "^git" + n, "a", ".b" + n) + Pick("", "-" + n + ".el9", "-" + n),
            "apk" => Numbers(3) + Pick("", "a", "b") + Pick("", "_alpha" + n, "_rc" + n, "_p" + n, "_git" + n) + Pick("", "-r" + n),
            "semver" => Pick("", "v") + Numbers(3) + Pick("", "-alpha", "-alpha." + n, "-beta." + n, "-rc." + n, "-" + n) + Pick("", "+build." + n),
            "pep440" => Pick("", "1!") + Numbers(3) + Pick("", "a" + n, "b" + n, "rc" + n) + Pick("", ".post" + n) + Pick("", ".dev" + n) + Pick("", "+local." + n),
            _ => Numbers(3) + Pick("", "-alpha-" + n, "-beta" + n, "-rc" + n, "-SNAPSHOT", "-sp" + n, "-" + n, ".Final"),
        };
    }
}
