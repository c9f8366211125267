using Wharf.Core.Primitives;

namespace Wharf.Core.Tests.Primitives;

public sealed class PrimitiveTests
{
    private const string Sha256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Digest_parses_sha256_and_sha512_and_round_trips()
    {
        Assert.True(Digest.TryParse("sha256:" + Sha256Hex, out var digest));
        Assert.Equal(DigestAlgorithm.Sha256, digest.Algorithm);
        Assert.Equal("sha256:" + Sha256Hex, digest.ToString());
        Assert.Equal(digest, Digest.Sha256Of([]));

        var sha512 = Digest.Compute(DigestAlgorithm.Sha512, [1, 2, 3]);
        Assert.True(Digest.TryParse(sha512.ToString(), out var parsed));
        Assert.Equal(128, parsed.Hex.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha256")]
    [InlineData("sha256:")]
    [InlineData(":" + Sha256Hex)]
    [InlineData("sha256:" + "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:" + Sha256Hex + "0")]
    [InlineData("sha256:abc")]
    [InlineData("sha512:" + Sha256Hex)]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void Digest_rejects_malformed_text(string? text) => Assert.False(Digest.TryParse(text, out _));

    [Fact]
    public void Digest_tells_unsupported_algorithms_from_garbage()
    {
        Assert.True(Digest.IsUnsupportedAlgorithm("md5:d41d8cd98f00b204e9800998ecf8427e"));
        Assert.False(Digest.IsUnsupportedAlgorithm("sha256:abc"));
        Assert.False(Digest.IsUnsupportedAlgorithm("not a digest"));
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("team/app")]
    [InlineData("a.b_c__d---e/f")]
    [InlineData("project-a/sub/deeper/img9")]
    [InlineData("0")]
    public void Repository_name_accepts_ecr_names(string text)
    {
        // "0" is one character: below ECR's minimum of two.
        Assert.Equal(text.Length >= 2, RepositoryName.TryParse(text, out _));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("Team/app")]
    [InlineData("team//app")]
    [InlineData("/team")]
    [InlineData("team/")]
    [InlineData("-team")]
    [InlineData("team-")]
    [InlineData("te___am")]
    [InlineData("te..am")]
    [InlineData("te._am")]
    [InlineData("team app")]
    [InlineData("team:app")]
    public void Repository_name_rejects_invalid_names(string text) => Assert.False(RepositoryName.TryParse(text, out _));

    [Fact]
    public void Repository_name_length_is_two_to_256()
    {
        Assert.True(RepositoryName.TryParse(new string('a', 256), out _));
        Assert.False(RepositoryName.TryParse(new string('a', 257), out _));
        Assert.True(RepositoryName.TryParse("ab", out _));
    }

    [Theory]
    [InlineData("latest", true)]
    [InlineData("v1.2.3-rc_1", true)]
    [InlineData("_hidden", true)]
    [InlineData("UPPER", true)]
    [InlineData(".dot", false)]
    [InlineData("-dash", false)]
    [InlineData("", false)]
    [InlineData("a:b", false)]
    [InlineData("a/b", false)]
    public void Tag_follows_the_oci_grammar(string text, bool valid) => Assert.Equal(valid, Tag.TryParse(text, out _));

    [Fact]
    public void Tag_is_at_most_128_characters()
    {
        Assert.True(Tag.TryParse(new string('a', 128), out _));
        Assert.False(Tag.TryParse(new string('a', 129), out _));
    }

    [Fact]
    public void Reference_is_a_tag_or_a_digest()
    {
        Assert.True(Reference.TryParse("v1", out var tag));
        Assert.False(tag.IsDigest);
        Assert.Equal("v1", tag.ToString());

        Assert.True(Reference.TryParse("sha256:" + Sha256Hex, out var digest));
        Assert.True(digest.IsDigest);
        Assert.Equal("sha256:" + Sha256Hex, digest.ToString());

        Assert.False(Reference.TryParse("sha256:nothex", out _));
        Assert.False(Reference.TryParse("-bad", out _));
        Assert.False(Reference.TryParse(null, out _));
    }
}
