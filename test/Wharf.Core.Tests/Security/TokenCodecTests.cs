using System.Buffers.Text;
using System.Security.Cryptography;
using Wharf.Core.Security;

namespace Wharf.Core.Tests.Security;

/// <summary>
/// The one signed-token format: what is sealed opens with the same key, purpose and binding, and a
/// change to any part — version, key id, fields, MAC, purpose, binding, key — or input that is no
/// token at all is refused without an exception.
/// </summary>
public sealed class TokenCodecTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly string[] Fields = ["arn:aws:iam::123456789012:user/alice", "123456789012", "us-east-1", "", "ünïcode\nwith a newline"];

    [Fact]
    public void A_sealed_token_opens_with_its_fields_and_names_its_key()
    {
        var token = TokenCodec.Seal(TokenPurpose.Auth, 7, Key, "scope", Fields);

        Assert.True(TokenCodec.TryReadKeyId(token, out var keyId));
        Assert.Equal(7u, keyId);
        Assert.True(TokenCodec.TryOpen(TokenPurpose.Auth, token, "scope", KeyOf(7, Key), out var fields));
        Assert.Equal(Fields, fields);
        Assert.DoesNotContain(token, c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

        Assert.True(TokenCodec.TryOpen(TokenPurpose.Page, TokenCodec.Seal(TokenPurpose.Page, 1, Key, string.Empty), string.Empty, KeyOf(1, Key), out var none));
        Assert.Empty(none);
    }

    [Fact]
    public void A_token_opens_for_no_other_purpose_binding_or_key()
    {
        var token = TokenCodec.Seal(TokenPurpose.Page, 1, Key, "DescribeRepositories|123456789012|us-east-1||", ["repo/a"]);

        Assert.True(TokenCodec.TryOpen(TokenPurpose.Page, token, "DescribeRepositories|123456789012|us-east-1||", KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, token, "DescribeRepositories|123456789012|us-east-1||", KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Download, token, "DescribeRepositories|123456789012|us-east-1||", KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Page, token, "DescribeRepositories|123456789012|eu-west-3||", KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Page, token, string.Empty, KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Page, token, "DescribeRepositories|123456789012|us-east-1||", KeyOf(1, RandomNumberGenerator.GetBytes(32)), out _));

        // An unknown (or revoked) key id, even when another id has the very key that signed.
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Page, token, "DescribeRepositories|123456789012|us-east-1||", KeyOf(2, Key), out _));
    }

    [Fact]
    public void A_change_to_any_byte_of_a_token_is_refused()
    {
        var raw = Base64Url.DecodeFromChars(TokenCodec.Seal(TokenPurpose.Download, 3, Key, string.Empty, Fields));

        // Each byte in turn: version (0), key id (1–4), field lengths and contents, MAC (last 32).
        for (var i = 0; i < raw.Length; i++)
        {
            var tampered = (byte[])raw.Clone();
            tampered[i] ^= 0x01;
            var token = Base64Url.EncodeToString(tampered);
            Assert.False(TokenCodec.TryOpen(TokenPurpose.Download, token, string.Empty, id => id == 3 || (i is >= 1 and <= 4) ? Key : null, out _), $"byte {i}");
        }

        // A changed key id whose key exists (and is the same key): the id is under the MAC too.
        var otherId = (byte[])raw.Clone();
        otherId[4] = 4;
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Download, Base64Url.EncodeToString(otherId), string.Empty, _ => Key, out _));

        // Fields moved between each other with the MAC kept: one field spelled as two, two as one.
        var fields = TokenCodec.Seal(TokenPurpose.Download, 3, Key, string.Empty, "ab", "c");
        var moved = TokenCodec.Seal(TokenPurpose.Download, 3, Key, string.Empty, "a", "bc");
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Download, moved[..^43] + fields[^43..], string.Empty, KeyOf(3, Key), out _));

        // Shortened by its last bytes, or lengthened.
        var whole = Base64Url.EncodeToString(raw);
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Download, Base64Url.EncodeToString(raw.AsSpan(0, raw.Length - 1)), string.Empty, KeyOf(3, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Download, Base64Url.EncodeToString([.. raw, 0]), string.Empty, KeyOf(3, Key), out _));
        Assert.True(TokenCodec.TryOpen(TokenPurpose.Download, whole, string.Empty, KeyOf(3, Key), out _));
    }

    [Fact]
    public void Other_spellings_of_a_token_are_refused()
    {
        var token = TokenCodec.Seal(TokenPurpose.Auth, 1, Key, string.Empty, "x");
        Assert.NotEqual(0, token.Length % 4);

        Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, token + new string('=', 4 - (token.Length % 4)), string.Empty, KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, token[..10] + " " + token[10..], string.Empty, KeyOf(1, Key), out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, token.Replace('-', '+').Replace('_', '/'), string.Empty, KeyOf(1, Key), out _) && token.AsSpan().IndexOfAny('-', '_') >= 0);

        // The last character carries unused low bits: no other character there spells a token, the same bytes included.
        var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        Assert.All(alphabet.Where(c => c != token[^1]), c => Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, token[..^1] + c, string.Empty, KeyOf(1, Key), out _)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("garbage")]
    [InlineData("not base64 at all, but long enough to pass the length check ......")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")]
    [InlineData("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")]
    public void Garbage_is_no_token(string input)
    {
        var lookedUp = false;
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, input, string.Empty, _ => { lookedUp = true; return Key; }, out var fields));
        Assert.Null(fields);
        if (!TokenCodec.TryReadKeyId(input, out _))
        {
            Assert.False(lookedUp);
        }
    }

    [Fact]
    public void A_field_length_running_past_the_end_is_refused_even_under_a_valid_mac()
    {
        // What Seal never writes (a field claiming more bytes than follow), MAC'd correctly by hand.
        byte[] content = [1, 0, 0, 0, 1, 0xFF, 0xFF, (byte)'a'];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Key);
        hmac.AppendData("auth\0"u8);
        hmac.AppendData(new byte[4]);
        hmac.AppendData(content);
        var token = Base64Url.EncodeToString([.. content, .. hmac.GetHashAndReset()]);
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Auth, token, string.Empty, KeyOf(1, Key), out _));

        // The same layout with a true length opens, so the refusal above is the length's.
        byte[] honest = [1, 0, 0, 0, 1, 0, 1, (byte)'a'];
        hmac.AppendData("auth\0"u8);
        hmac.AppendData(new byte[4]);
        hmac.AppendData(honest);
        Assert.True(TokenCodec.TryOpen(TokenPurpose.Auth, Base64Url.EncodeToString([.. honest, .. hmac.GetHashAndReset()]), string.Empty, KeyOf(1, Key), out var fields));
        Assert.Equal(["a"], fields);
    }

    [Fact]
    public void Input_longer_than_any_token_is_refused_unread_and_sealing_is_bounded()
    {
        var largest = TokenCodec.Seal(TokenPurpose.Page, 1, Key, string.Empty, new string('a', TokenCodec.MaxContentBytes - 2));
        Assert.Equal(TokenCodec.MaxLength, largest.Length);
        Assert.True(TokenCodec.TryOpen(TokenPurpose.Page, largest, string.Empty, KeyOf(1, Key), out _));

        var lookedUp = false;
        var huge = largest + new string('A', 1_000_000);
        Assert.False(TokenCodec.TryReadKeyId(huge, out _));
        Assert.False(TokenCodec.TryOpen(TokenPurpose.Page, huge, string.Empty, _ => { lookedUp = true; return Key; }, out _));
        Assert.False(lookedUp);

        Assert.Throws<ArgumentException>(() => TokenCodec.Seal(TokenPurpose.Page, 1, Key, string.Empty, new string('a', TokenCodec.MaxContentBytes - 1)));
    }

    private static Func<uint, byte[]?> KeyOf(uint id, byte[] key) => candidate => candidate == id ? key : null;
}
