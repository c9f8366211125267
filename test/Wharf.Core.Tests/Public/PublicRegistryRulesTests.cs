using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Public;

namespace Wharf.Core.Tests.Public;

/// <summary>The public registries' pure rules: search terms and query words, default aliases, alias names, logos.</summary>
public sealed class PublicRegistryRulesTests
{
    [Fact]
    public void Search_terms_are_the_whole_name_its_components_and_the_descriptions_words_lowercased_once_each()
    {
        var terms = PublicRegistryService.SearchTerms(RepositoryName.Parse("team-a/web_app.v2/nginx"), "Nginx: the WEB server (fast), über-quick; nginx again!");

        Assert.Equal(
            ["team-a/web_app.v2/nginx", "team", "a", "web", "app", "v2", "nginx", "the", "server", "fast", "über", "quick", "again"],
            terms);
        Assert.Equal(["busybox"], PublicRegistryService.SearchTerms(RepositoryName.Parse("busybox"), null));
        Assert.Equal(["busybox"], PublicRegistryService.SearchTerms(RepositoryName.Parse("busybox"), "  -- !! "));
    }

    [Fact]
    public void Search_terms_are_bounded_in_number_and_length()
    {
        var description = string.Join(' ', Enumerable.Range(0, 1000).Select(i => $"word{i}")) + " " + new string('x', 500);
        var longName = string.Join('/', Enumerable.Repeat(new string('n', 70), 2));

        var terms = PublicRegistryService.SearchTerms(RepositoryName.Parse(longName), description);

        Assert.Equal(PublicRegistryService.MaxTerms, terms.Count);
        Assert.All(terms, t => Assert.InRange(t.Length, 1, PublicRegistryService.MaxTermLength));
        // The name's terms come first: a long description never crowds the name out.
        Assert.Equal(longName[..PublicRegistryService.MaxTermLength], terms.First());
        Assert.Contains(new string('n', PublicRegistryService.MaxTermLength), terms);
        Assert.Equal(terms.Count, terms.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Query_words_are_lowercased_split_deduplicated_and_bounded()
    {
        Assert.Equal(["web", "server"], PublicRegistryService.QueryWords("  Web/SERVER web  "));
        Assert.Empty(PublicRegistryService.QueryWords(null));
        Assert.Empty(PublicRegistryService.QueryWords(" .-_/ "));
        Assert.Equal(PublicRegistryService.MaxQueryWords, PublicRegistryService.QueryWords(string.Join(' ', Enumerable.Range(0, 50).Select(i => $"w{i}"))).Count);
        Assert.Equal(new string('q', PublicRegistryService.MaxTermLength), Assert.Single(PublicRegistryService.QueryWords(new string('Q', 10_000))));
    }

    [Fact]
    public void Default_aliases_are_a_letter_and_seven_lowercase_letters_or_digits_drawn_at_random()
    {
        var drawn = Enumerable.Range(0, 2000).Select(_ => PublicRegistryService.DrawAlias()).ToList();

        Assert.All(drawn, alias =>
        {
            Assert.Matches("^[a-z][a-z0-9]{7}$", alias);
            Assert.True(PublicRegistryService.IsAlias(alias));
        });
        Assert.Equal(drawn.Count, drawn.Distinct().Count());
        // Every character of the alphabet turns up somewhere after the first letter (digits included).
        Assert.Equal(36, drawn.SelectMany(a => a[1..]).Distinct().Count());
    }

    [Theory]
    [InlineData("ab", true)]
    [InlineData("acme", true)]
    [InlineData("acme-corp.v2_x", true)]
    [InlineData("a", false)]
    [InlineData("1acme", false)]
    [InlineData("Acme", false)]
    [InlineData("acme-", false)]
    [InlineData("acme--corp", false)]
    [InlineData("a-b", false)]
    [InlineData("acme/corp", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Alias_names_follow_ecr_publics_pattern(string? alias, bool valid) =>
        Assert.Equal(valid, PublicRegistryService.IsAlias(alias));

    [Fact]
    public void Alias_names_are_at_most_fifty_characters() =>
        Assert.Equal([true, false], new[] { 50, 51 }.Select(n => PublicRegistryService.IsAlias("a" + new string('b', n - 1))));

    [Fact]
    public void A_logo_is_a_png_or_jpeg_of_at_most_512000_bytes_named_by_its_sha256()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        var logo = PublicRegistryService.ReadLogo(png);
        Assert.Equal("image/png", logo.MediaType);
        Assert.Equal(Digest.Sha256Of(png).Hex, logo.Sha256);
        Assert.Equal("image/jpeg", PublicRegistryService.ReadLogo([0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).MediaType);

        var big = new byte[PublicRegistryService.MaxLogoBytes + 1];
        png.CopyTo(big, 0);
        Assert.Equal(WharfErrorCode.InvalidParameter, Assert.Throws<WharfException>(() => PublicRegistryService.ReadLogo(big)).Code);
        Assert.Equal("image/png", PublicRegistryService.ReadLogo(big[..PublicRegistryService.MaxLogoBytes]).MediaType);

        foreach (var bad in new[] { "GIF89a"u8.ToArray(), "<svg onload=alert(1)>"u8.ToArray(), [0x89, 0x50], [] })
        {
            var error = Assert.Throws<WharfException>(() => PublicRegistryService.ReadLogo(bad));
            Assert.Equal(WharfErrorCode.InvalidParameter, error.Code);
            Assert.Contains("PNG or JPEG", error.Message, StringComparison.Ordinal);
        }
    }
}
