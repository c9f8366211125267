using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Core.Encryption;

/// <summary>
/// The sealed blob format (docs/encryption.md "The format"). A sealed object is a sequence of runs, one per
/// staged chunk write. A run is a fixed-size header (magic, version, the run's data key wrapped under the scope's
/// key) followed by the run's plaintext in segments of <see cref="SegmentSize"/> bytes (the last may be shorter),
/// each encrypted with AES-256-GCM under the run's data key and followed by its 16-byte tag. Every run has its own
/// fresh data key, so a key and nonce never meet two plaintexts (a retried or raced chunk at the same offset gets
/// another key); the nonce is the segment's index in the run. Each segment's associated data binds it to the
/// format version, the scope, the upload that wrote it, the run's plaintext offset in the blob, its index and
/// whether it is the run's last: a segment moved, reordered, dropped, or a run cut short fails its tag.
/// The sizes are a function of the plaintext's alone, so a chain of plaintext chunk offsets maps to sealed
/// offsets without reading anything.
/// </summary>
public static class SealedFormat
{
    /// <summary>Plaintext bytes per segment.</summary>
    public const int SegmentSize = 64 * 1024;

    /// <summary>The GCM tag after each segment.</summary>
    public const int TagSize = 16;

    /// <summary>Bytes of a sealed segment holding <see cref="SegmentSize"/> plaintext bytes.</summary>
    public const int SealedSegmentSize = SegmentSize + TagSize;

    /// <summary>A run's header: magic (8), version (1), reserved (3), wrapped key length (2, big-endian), wrapped key, zeros.</summary>
    public const int HeaderSize = 512;

    /// <summary>The longest wrapped data key a header holds.</summary>
    public const int MaxWrappedKeySize = HeaderSize - 14;

    private const byte Version = 1;
    private const int NonceSize = 12;
    private static readonly byte[] Magic = "WHRFSEAL"u8.ToArray();
    private static readonly byte[] AadLabel = "wharf-seal/v1"u8.ToArray();

    /// <summary>The sealed length of a run of <paramref name="plaintextLength"/> bytes (0 for none: an empty write stores nothing).</summary>
    public static long SealedLength(long plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        return plaintextLength == 0 ? 0 : HeaderSize + plaintextLength + (SegmentCount(plaintextLength) * TagSize);
    }

    /// <summary>How many segments a run of <paramref name="plaintextLength"/> bytes has.</summary>
    public static long SegmentCount(long plaintextLength) => (plaintextLength + SegmentSize - 1) / SegmentSize;

    /// <summary>The data key context a run's key is wrapped with (the KMS encryption context; AAD for the master key).</summary>
    public static string KeyContext(string uploadId) => "wharf-seal/v1 upload " + uploadId;

    /// <summary>Writes a run's header for <paramref name="wrappedKey"/> into <paramref name="header"/> (<see cref="HeaderSize"/> bytes).</summary>
    public static void WriteHeader(ReadOnlySpan<byte> wrappedKey, Span<byte> header)
    {
        if (wrappedKey.Length is 0 or > MaxWrappedKeySize)
        {
            throw new InvalidOperationException($"A wrapped data key of {wrappedKey.Length} bytes does not fit a sealed run's header (at most {MaxWrappedKeySize}).");
        }

        header = header[..HeaderSize];
        header.Clear();
        Magic.CopyTo(header);
        header[8] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(header[12..], (ushort)wrappedKey.Length);
        wrappedKey.CopyTo(header[14..]);
    }

    /// <summary>The wrapped key of a run's header; <see cref="CryptographicException"/> when it is not one.</summary>
    public static byte[] ReadHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderSize || !header[..8].SequenceEqual(Magic) || header[8] != Version)
        {
            throw new CryptographicException("The sealed blob has no valid run header where one belongs.");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(header[12..]);
        if (length is 0 or > MaxWrappedKeySize)
        {
            throw new CryptographicException("The sealed run's header names an impossible key length.");
        }

        return header.Slice(14, length).ToArray();
    }

    /// <summary>
    /// The associated data of a run's segments, with room for the segment index and the last-segment flag that
    /// <see cref="SetSegment"/> fills in.
    /// </summary>
    public static byte[] RunAad(string scopeId, string uploadId, long runStart)
    {
        var scope = Encoding.UTF8.GetBytes(scopeId);
        var upload = Encoding.UTF8.GetBytes(uploadId);
        var aad = new byte[AadLabel.Length + 1 + scope.Length + 1 + upload.Length + 1 + 8 + 8 + 1];
        var span = aad.AsSpan();
        AadLabel.CopyTo(span);
        span = span[(AadLabel.Length + 1)..];
        scope.CopyTo(span);
        span = span[(scope.Length + 1)..];
        upload.CopyTo(span);
        span = span[(upload.Length + 1)..];
        BinaryPrimitives.WriteInt64BigEndian(span, runStart);
        return aad;
    }

    /// <summary>Sets the segment index and the last-segment flag at the end of <paramref name="aad"/> (from <see cref="RunAad"/>).</summary>
    public static void SetSegment(byte[] aad, long index, bool last)
    {
        BinaryPrimitives.WriteInt64BigEndian(aad.AsSpan(aad.Length - 9), index);
        aad[^1] = last ? (byte)1 : (byte)0;
    }

    /// <summary>Encrypts one segment (at most <see cref="SegmentSize"/> bytes) into <paramref name="sealedSegment"/> (its length plus the tag).</summary>
    public static void SealSegment(AesGcm aes, long index, ReadOnlySpan<byte> plaintext, byte[] aad, Span<byte> sealedSegment)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        Nonce(index, nonce);
        aes.Encrypt(nonce, plaintext, sealedSegment[..plaintext.Length], sealedSegment.Slice(plaintext.Length, TagSize), aad);
    }

    /// <summary>Decrypts one sealed segment (ciphertext then tag) into <paramref name="plaintext"/>; <see cref="AuthenticationTagMismatchException"/> when altered.</summary>
    public static void OpenSegment(AesGcm aes, long index, ReadOnlySpan<byte> sealedSegment, byte[] aad, Span<byte> plaintext)
    {
        if (sealedSegment.Length <= TagSize)
        {
            throw new CryptographicException("A sealed segment is too short.");
        }

        Span<byte> nonce = stackalloc byte[NonceSize];
        Nonce(index, nonce);
        var length = sealedSegment.Length - TagSize;
        aes.Decrypt(nonce, sealedSegment[..length], sealedSegment[length..], plaintext[..length], aad);
    }

    /// <summary>
    /// The sealed offset where each run starts, for runs starting at plaintext <paramref name="runStarts"/> in a
    /// blob of <paramref name="size"/> bytes (a run ends where the next starts).
    /// </summary>
    public static long[] SealedRunStarts(IReadOnlyList<long> runStarts, long size)
    {
        var sealedStarts = new long[runStarts.Count];
        long sealedOffset = 0;
        for (var i = 0; i < runStarts.Count; i++)
        {
            sealedStarts[i] = sealedOffset;
            var end = i + 1 < runStarts.Count ? runStarts[i + 1] : size;
            sealedOffset += SealedLength(end - runStarts[i]);
        }

        return sealedStarts;
    }

    private static void Nonce(long index, Span<byte> nonce)
    {
        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], index);
    }
}
