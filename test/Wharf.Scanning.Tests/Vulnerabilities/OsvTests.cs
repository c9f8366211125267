using Wharf.Scanning.Vulnerabilities;

namespace Wharf.Scanning.Tests.Vulnerabilities;

/// <summary>CVSS base scores from the specifications' formulas, OSV records parsed, versions matched against ranges in each ecosystem's order, severities mapped to ECR's.</summary>
public sealed class OsvTests
{
    [Theory]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0)] // CVE-2021-44228 (Log4Shell)
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2)] // CVE-2021-23337 (lodash)
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5)] // CVE-2014-0160 (Heartbleed), NVD's v3
    [InlineData("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9)]
    [InlineData("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1)]
    [InlineData("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5)]
    [InlineData("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0)] // CVE-2014-0160, v2
    public void Base_scores_follow_the_specifications(string vector, double score) => Assert.Equal(score, Cvss.BaseScore(vector));

    [Theory]
    [InlineData("CVSS:3.1/AV:N/AC:L")]
    [InlineData("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")]
    [InlineData("not a vector")]
    public void Malformed_vectors_have_no_score(string vector) => Assert.Null(Cvss.BaseScore(vector));

    [Theory]
    [InlineData(0.0, "INFORMATIONAL")]
    [InlineData(3.9, "LOW")]
    [InlineData(4.0, "MEDIUM")]
    [InlineData(6.9, "MEDIUM")]
    [InlineData(7.0, "HIGH")]
    [InlineData(9.0, "CRITICAL")]
    public void Scores_map_to_ecr_severities(double score, string severity) => Assert.Equal(severity, Cvss.Rating(score));

    // GHSA-35jh-r3h4-6jhm (CVE-2021-23337), as GitHub's advisory database exports it in OSV.
    private const string Lodash = """
        {"schema_version":"1.6.0","id":"GHSA-35jh-r3h4-6jhm","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-23337"],
         "summary":"Command Injection in lodash",
         "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
         "affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],
         "references":[{"type":"ADVISORY","url":"https://nvd.nist.gov/vuln/detail/CVE-2021-23337"}],
         "database_specific":{"severity":"HIGH","github_reviewed":true}}
        """;

    // CVE-2023-44487 in Debian 12's nghttp2, fixed by DSA-5540-1 in 1.52.0-1+deb12u1.
    private const string Nghttp2 = """
        {"id":"DEBIAN-CVE-2023-44487","aliases":["CVE-2023-44487"],"modified":"2024-01-01T00:00:00Z",
         "affected":[{"package":{"ecosystem":"Debian:12","name":"nghttp2"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.52.0-1+deb12u1"}]}]}]}
        """;

    [Fact]
    public void Osv_records_parse_and_match_versions_in_their_ecosystems_order()
    {
        var lodash = OsvAdvisory.Parse(Lodash);
        Assert.Equal(("GHSA-35jh-r3h4-6jhm", "CVE-2021-23337", "HIGH"), (lodash.Id, lodash.Aliases[0], lodash.FindingSeverity(lodash.Affected[0])));
        var package = Assert.Single(lodash.Affected);
        Assert.Equal((true, "4.17.21"), OsvAdvisory.Matches(package, "4.17.20"));
        Assert.Equal((true, "4.17.21"), OsvAdvisory.Matches(package, "3.10.1"));
        Assert.False(OsvAdvisory.Matches(package, "4.17.21").Affected);
        Assert.False(OsvAdvisory.Matches(package, "4.18.0-beta.1").Affected);

        var nghttp2 = OsvAdvisory.Parse(Nghttp2);
        var debian = Assert.Single(nghttp2.Affected);
        Assert.Equal((true, "1.52.0-1+deb12u1"), OsvAdvisory.Matches(debian, "1.52.0-1"));
        Assert.False(OsvAdvisory.Matches(debian, "1.52.0-1+deb12u1").Affected);
        Assert.False(OsvAdvisory.Matches(debian, "1.52.0-1+deb12u2").Affected);
        Assert.Equal("UNDEFINED", nghttp2.FindingSeverity(debian)); // no rating and no vector from the source
    }

    [Fact]
    public void Ranges_reopen_close_with_last_affected_and_stay_open_without_a_fix()
    {
        // Two affected intervals, [1.0, 1.2) and [2.0, 2.1.3], then an unfixed one from 3.0 on.
        var affected = OsvAdvisory.Parse("""
            {"id":"TEST-1","affected":[{"package":{"ecosystem":"PyPI","name":"example"},"ranges":[
              {"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.2"},{"introduced":"2.0"},{"last_affected":"2.1.3"},{"introduced":"3.0rc1"}]}],
              "versions":["0.9.post1"]}]}
            """).Affected[0];
        Assert.True(OsvAdvisory.Matches(affected, "1.1.9").Affected);
        Assert.Equal("1.2", OsvAdvisory.Matches(affected, "1.0").FixedIn);
        Assert.False(OsvAdvisory.Matches(affected, "1.2").Affected);
        Assert.False(OsvAdvisory.Matches(affected, "1.0rc1").Affected); // a pre-release of 1.0 is before it
        Assert.True(OsvAdvisory.Matches(affected, "2.1.3").Affected);
        Assert.False(OsvAdvisory.Matches(affected, "2.1.4").Affected);
        Assert.Equal((true, null), OsvAdvisory.Matches(affected, "3.0"));
        Assert.True(OsvAdvisory.Matches(affected, "0.9.post1").Affected); // listed explicitly
        Assert.False(OsvAdvisory.Matches(affected, "0.9").Affected);
    }

    [Fact]
    public void Severity_comes_from_the_source_then_the_highest_cvss_then_undefined()
    {
        var ubuntu = OsvAdvisory.Parse("""{"id":"UBUNTU-CVE-2024-0001","severity":[{"type":"Ubuntu","score":"medium"},{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[]}""");
        Assert.Equal("MEDIUM", ubuntu.FindingSeverity()); // the distribution's priority before the CVSS score
        var vectorOnly = OsvAdvisory.Parse("""{"id":"OSV-2","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},{"type":"CVSS_V2","score":"AV:N/AC:M/Au:N/C:N/I:P/A:N"}],"affected":[]}""");
        Assert.Equal("CRITICAL", vectorOnly.FindingSeverity()); // the highest score
        var words = OsvAdvisory.Parse("""{"id":"UBUNTU-CVE-2024-0002","severity":[{"type":"Ubuntu","score":"negligible"}],"affected":[]}""");
        Assert.Equal("LOW", words.FindingSeverity());
        var moderate = OsvAdvisory.Parse("""{"id":"GHSA-x","database_specific":{"severity":"MODERATE"},"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[]}""");
        Assert.Equal("MEDIUM", moderate.FindingSeverity()); // the source's own rating first
        Assert.Throws<System.Text.Json.JsonException>(() => OsvAdvisory.Parse("{\"affected\":[]}"));
    }
}
