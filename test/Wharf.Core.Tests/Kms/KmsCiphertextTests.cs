using System.Security.Cryptography;
using Wharf.Core.Kms;

namespace Wharf.Core.Tests.Kms;

/// <summary>The ciphertext blob format: it names its key and material version, binds the context, and reads any bytes with bounds.</summary>
public sealed class KmsCiphertextTests
{
    private const string Arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

    private static readonly Dictionary<string, string> Context = new() { ["repo"] = "team/app", ["digest"] = "sha256:00" };

    [Fact]
    public void A_blob_names_its_key_and_version_and_opens_only_under_its_material_and_context()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        var blob = KmsCiphertext.Seal(material, Arn, 3, "secret"u8, Context);
        var header = KmsCiphertext.TryReadHeader(blob);
        Assert.Equal((Arn, 3), (header!.Value.KeyArn, header.Value.MaterialVersion));
        Assert.Equal("secret"u8.ToArray(), KmsCiphertext.TryOpen(material, blob, header.Value, new Dictionary<string, string> { ["digest"] = "sha256:00", ["repo"] = "team/app" }));
        Assert.Null(KmsCiphertext.TryOpen(material, blob, header.Value, new Dictionary<string, string> { ["repo"] = "team/app" }));
        Assert.Null(KmsCiphertext.TryOpen(material, blob, header.Value, null));
        Assert.Null(KmsCiphertext.TryOpen(RandomNumberGenerator.GetBytes(32), blob, header.Value, Context));

        // Every single-bit change of the blob fails: in the header it names another key or version, or breaks the tag.
        for (var i = 0; i < blob.Length; i++)
        {
            var altered = (byte[])blob.Clone();
            altered[i] ^= 0x10;
            if (KmsCiphertext.TryReadHeader(altered) is { } h && h.KeyArn == Arn && h.MaterialVersion == 3)
            {
                Assert.Null(KmsCiphertext.TryOpen(material, altered, h, Context));
            }
        }

        // A context pair split differently is another context.
        var split = KmsCiphertext.Seal(material, Arn, 1, "x"u8, new Dictionary<string, string> { ["a"] = "bc" });
        Assert.Null(KmsCiphertext.TryOpen(material, split, KmsCiphertext.TryReadHeader(split)!.Value, new Dictionary<string, string> { ["ab"] = "c" }));
    }

    [Fact]
    public void Hostile_bytes_are_read_as_no_blob_or_fail_to_open_never_throw()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        var blob = KmsCiphertext.Seal(material, Arn, 1, new byte[100], null);
        Assert.Null(KmsCiphertext.TryReadHeader([]));
        Assert.Null(KmsCiphertext.TryReadHeader(new byte[KmsCiphertext.MaxBytes + 1]));
        Assert.Null(KmsCiphertext.TryReadHeader([1, 0]));
        Assert.Null(KmsCiphertext.TryReadHeader([1, 255, 65]));
        for (var length = 0; length < blob.Length; length++)
        {
            if (KmsCiphertext.TryReadHeader(blob.AsSpan(0, length)) is { } h)
            {
                Assert.Null(KmsCiphertext.TryOpen(material, blob.AsSpan(0, length), h, null));
            }
        }

        var random = new Random(21);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            if (bytes.Length > 1 && i % 2 == 0)
            {
                bytes[0] = KmsCiphertext.FormatVersion;
                bytes[1] = (byte)random.Next(0, 120);
            }

            if (KmsCiphertext.TryReadHeader(bytes) is { } h)
            {
                Assert.Null(KmsCiphertext.TryOpen(material, bytes, h, null));
            }
        }
    }
}
