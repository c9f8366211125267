using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Core.Kms;

/// <summary>
/// Wharf's KMS ciphertext blob: <c>0x01</c>, the key's ARN (one length byte, ASCII), the material version (uint32,
/// big-endian), a 12-byte nonce, then AES-256-GCM ciphertext and its 16-byte tag. The header and the encryption
/// context are the associated data, so a blob names its key (<c>Decrypt</c> needs no <c>KeyId</c>, as in AWS) and opens
/// only under the context it was made with. Parsed with bounds: anything else is not a blob of this format.
/// </summary>
public static class KmsCiphertext
{
    public const byte FormatVersion = 1;
    public const int NonceBytes = 12;
    public const int TagBytes = 16;

    /// <summary>KMS's largest ciphertext blob (the model's <c>CiphertextType</c>).</summary>
    public const int MaxBytes = 6144;

    /// <summary>KMS's largest plaintext (<c>PlaintextType</c>).</summary>
    public const int MaxPlaintextBytes = 4096;

    private const int MaxArnBytes = 255;

    /// <summary>What a blob's header says: the key and the material version that encrypted it.</summary>
    public readonly record struct Header(string KeyArn, int MaterialVersion, int Length);

    /// <summary>The header of <paramref name="blob"/>, or null when it is not a well-formed blob of this format.</summary>
    public static Header? TryReadHeader(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 2 || blob.Length > MaxBytes || blob[0] != FormatVersion)
        {
            return null;
        }

        var arnLength = blob[1];
        var headerLength = 2 + arnLength + 4;
        if (arnLength == 0 || blob.Length < headerLength + NonceBytes + TagBytes)
        {
            return null;
        }

        var arn = blob.Slice(2, arnLength);
        foreach (var b in arn)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return null;
            }
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(blob.Slice(2 + arnLength, 4));
        return version is 0 or > int.MaxValue ? null : new Header(Encoding.ASCII.GetString(arn), (int)version, headerLength);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> under one version of a key's material.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> material, string keyArn, int materialVersion, ReadOnlySpan<byte> plaintext, IReadOnlyDictionary<string, string>? context)
    {
        var arn = Encoding.ASCII.GetBytes(keyArn);
        if (arn.Length is 0 or > MaxArnBytes)
        {
            throw new ArgumentException("The key ARN does not fit a ciphertext blob.", nameof(keyArn));
        }

        var headerLength = 2 + arn.Length + 4;
        var blob = new byte[headerLength + NonceBytes + plaintext.Length + TagBytes];
        blob[0] = FormatVersion;
        blob[1] = (byte)arn.Length;
        arn.CopyTo(blob, 2);
        BinaryPrimitives.WriteUInt32BigEndian(blob.AsSpan(2 + arn.Length, 4), (uint)materialVersion);
        var nonce = blob.AsSpan(headerLength, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var gcm = new AesGcm(material, TagBytes);
        gcm.Encrypt(nonce, plaintext, blob.AsSpan(headerLength + NonceBytes, plaintext.Length), blob.AsSpan(blob.Length - TagBytes), AssociatedData(blob.AsSpan(0, headerLength), context));
        return blob;
    }

    /// <summary>The plaintext of <paramref name="blob"/> (whose header is <paramref name="header"/>), or null when it does not open.</summary>
    public static byte[]? TryOpen(ReadOnlySpan<byte> material, ReadOnlySpan<byte> blob, Header header, IReadOnlyDictionary<string, string>? context)
    {
        var cipherLength = blob.Length - header.Length - NonceBytes - TagBytes;
        var plaintext = new byte[cipherLength];
        try
        {
            using var gcm = new AesGcm(material, TagBytes);
            gcm.Decrypt(
                blob.Slice(header.Length, NonceBytes),
                blob.Slice(header.Length + NonceBytes, cipherLength),
                blob[^TagBytes..],
                plaintext,
                AssociatedData(blob[..header.Length], context));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    // The header, then each context pair sorted by key (ordinal), each string length-prefixed: the same context in any
    // order binds the same way, and no two contexts share an encoding.
    private static byte[] AssociatedData(ReadOnlySpan<byte> header, IReadOnlyDictionary<string, string>? context)
    {
        using var buffer = new MemoryStream();
        buffer.Write(header);
        Span<byte> length = stackalloc byte[4];
        foreach (var (key, value) in (context ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var text in (ReadOnlySpan<string>)[key, value])
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
                buffer.Write(length);
                buffer.Write(bytes);
            }
        }

        return buffer.ToArray();
    }
}
