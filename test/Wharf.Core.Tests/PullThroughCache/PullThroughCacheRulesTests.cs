using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;

namespace Wharf.Core.Tests.PullThroughCache;

/// <summary>Which rule a repository name is pulled through (ECR-NOTES §7.2), the upstream repository it maps to, and what an upstream URL may be; no I/O.</summary>
public sealed class PullThroughCacheRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static PullThroughCacheRule Rule(string prefix, string upstreamPrefix = "ROOT") =>
        new(prefix, "registry.example", null, null, null, upstreamPrefix, T0, T0);

    private static readonly PullThroughCacheRules Rules = new([
        Rule("ROOT"),
        Rule("hub/"),
        Rule("hub/library"),
        Rule("mirror", "upstream-app"),
        Rule("team-a", "team-a/"),
    ]);

    [Theory]
    [InlineData("hub/nginx", "hub/", "nginx")]
    [InlineData("hub/library/alpine", "hub/library", "alpine")]
    [InlineData("hub/library", "hub/", "library")]
    [InlineData("hubble/x", "ROOT", "hubble/x")]
    [InlineData("hub", "ROOT", "hub")]
    [InlineData("mirror/image1", "mirror", "upstream-app/image1")]
    [InlineData("team-a/myapp/image1", "team-a", "team-a/myapp/image1")]
    [InlineData("my-app/image1", "ROOT", "my-app/image1")]
    public void The_longest_covering_prefix_wins_ROOT_takes_the_rest_and_the_upstream_prefix_replaces_it(string repository, string rule, string upstream)
    {
        var match = Rules.Match(RepositoryName.Parse(repository));
        Assert.NotNull(match);
        Assert.Equal(rule, match.Value.Rule.EcrRepositoryPrefix);
        Assert.Equal(upstream, match.Value.UpstreamRepository);
    }

    [Fact]
    public void Without_ROOT_a_name_no_prefix_covers_has_no_rule()
    {
        var rules = new PullThroughCacheRules([Rule("hub")]);
        Assert.Null(rules.Match(RepositoryName.Parse("hub")));
        Assert.Null(rules.Match(RepositoryName.Parse("hubble/nginx")));
        Assert.Equal("nginx", rules.Match(RepositoryName.Parse("hub/nginx"))!.Value.UpstreamRepository);
    }

    [Fact]
    public void A_trailing_slash_names_the_same_rule_and_the_setting_round_trips()
    {
        Assert.Same(Rules.Rules[1], Rules.Find("hub"));
        Assert.Same(Rules.Rules[1], Rules.Find("hub/"));
        var reread = PullThroughCacheRules.FromSetting(Rules.ToSetting());
        Assert.Equal(Rules.Rules, reread.Rules);
        Assert.Null(PullThroughCacheRules.Empty.ToSetting());
        Assert.Single(Rules.Without("hub").Rules, r => r.Key == "hub/library");
    }

    [Theory]
    [InlineData("registry-1.docker.io", "https://registry-1.docker.io/", "docker-hub")]
    [InlineData("https://ghcr.io/", "https://ghcr.io/", "github-container-registry")]
    [InlineData("quay.io", "https://quay.io/", "quay")]
    [InlineData("registry.k8s.io", "https://registry.k8s.io/", "k8s")]
    [InlineData("public.ecr.aws", "https://public.ecr.aws/", "ecr-public")]
    [InlineData("registry.gitlab.com", "https://registry.gitlab.com/", "gitlab-container-registry")]
    [InlineData("myreg.azurecr.io", "https://myreg.azurecr.io/", "azure-container-registry")]
    [InlineData("111122223333.dkr.ecr.eu-west-1.amazonaws.com", "https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/", "ecr")]
    [InlineData("https://registry.example:5000", "https://registry.example:5000/", null)]
    [InlineData("ghcr.io:8443", "https://ghcr.io:8443/", null)]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000/", null)]
    public void Urls_are_hosts_or_https_addresses_and_ECRs_hosts_have_their_names(string url, string baseUri, string? known)
    {
        var parsed = UpstreamRegistryUrl.Parse(url, allowInsecure: true);
        Assert.Equal(baseUri, parsed.ToString());
        Assert.Equal(known, UpstreamRegistryUrl.KnownRegistry(parsed));
    }

    [Theory]
    [InlineData("http://registry.example", "PullThroughCache:AllowInsecureUpstreams")]
    [InlineData("https://registry.example/v2/", "no path")]
    [InlineData("https://user:pw@registry.example", "no path")]
    [InlineData("ftp://registry.example", "no path")]
    [InlineData("https://", "no path")]
    [InlineData("registry.example?x=1", "no path")]
    public void Other_urls_and_http_without_the_setting_are_refused(string url, string says)
    {
        var refused = Assert.Throws<WharfException>(() => UpstreamRegistryUrl.Parse(url, allowInsecure: false));
        Assert.Equal(WharfErrorCode.InvalidParameter, refused.Code);
        Assert.StartsWith("Invalid parameter at 'upstreamRegistryUrl' failed to satisfy constraint", refused.Message, StringComparison.Ordinal);
        Assert.Contains(says, refused.Message, StringComparison.Ordinal);
    }
}
