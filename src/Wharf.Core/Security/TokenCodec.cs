using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Core.Security;

/// <summary>
/// What a signed token is for. The purpose is bound into the MAC, so a token issued for one never opens
/// as another, and each purpose signs with its own rotated key family (<see cref="TokenKeyRing"/>).
/// </summary>
public enum TokenPurpose
{
    /// <summary><c>GetAuthorizationToken</c> passwords for <c>/v2</c>.</summary>
    Auth,

    /// <summary>The API's <c>nextToken</c>s.</summary>
    Page,

    /// <summary><c>GetDownloadUrlForLayer</c> URLs.</summary>
    Download,

    /// <summary>The public address's bearer tokens (anonymous or a principal's), issued by its token realm.</summary>
    Bearer,
}

/// <summary>
/// The one format of Wharf's self-contained signed tokens, so that no token type writes its own: base64url
/// of a version byte, the signing key's id (4 bytes, big-endian), the fields (each a 2-byte length and
/// UTF-8, so no field can run into the next) and an HMAC-SHA256. The MAC also covers the purpose and a
/// binding — what the token was issued for, which the verifier supplies again and the token does not
/// carry. Input is bounded and checked to be the canonical encoding before any key is looked up;
/// nothing malformed throws.
/// </summary>
public static class TokenCodec
{
    /// <summary>The most field bytes a token carries (a few hundred are used; this bounds what is read).</summary>
    public const int MaxContentBytes = 4096;

    private const byte Version = 1;
    private const int HeaderBytes = 5;
    private const int MacBytes = 32;

    /// <summary>The longest token <see cref="TryOpen"/> reads; longer input is refused unread.</summary>
    public static readonly int MaxLength = Base64Url.GetEncodedLength(HeaderBytes + MaxContentBytes + MacBytes);

    public static string Seal(TokenPurpose purpose, uint keyId, ReadOnlySpan<byte> key, string binding, params ReadOnlySpan<string> fields)
    {
        var length = HeaderBytes + MacBytes;
        foreach (var field in fields)
        {
            length += 2 + Encoding.UTF8.GetByteCount(field);
        }

        if (length > HeaderBytes + MaxContentBytes + MacBytes)
        {
            throw new ArgumentException($"A token carries at most {MaxContentBytes} bytes.", nameof(fields));
        }

        var token = new byte[length];
        token[0] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(token.AsSpan(1), keyId);
        var at = HeaderBytes;
        foreach (var field in fields)
        {
            var written = Encoding.UTF8.GetBytes(field, token.AsSpan(at + 2));
            BinaryPrimitives.WriteUInt16BigEndian(token.AsSpan(at), (ushort)written);
            at += 2 + written;
        }

        Mac(purpose, key, binding, token.AsSpan(0, at), token.AsSpan(at));
        return Base64Url.EncodeToString(token);
    }

    /// <summary>The id of the key <paramref name="token"/> names, read from its first bytes; false when it is no token of this format.</summary>
    public static bool TryReadKeyId(ReadOnlySpan<char> token, out uint keyId)
    {
        keyId = 0;
        Span<byte> header = stackalloc byte[6];
        if (token.Length < Base64Url.GetEncodedLength(HeaderBytes + MacBytes) || token.Length > MaxLength
            || Base64Url.DecodeFromChars(token[..8], header, out _, out var written, isFinalBlock: false) != System.Buffers.OperationStatus.Done
            || written != header.Length || header[0] != Version)
        {
            return false;
        }

        keyId = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        return true;
    }

    /// <summary>
    /// The fields of <paramref name="token"/> when it is well formed, issued for <paramref name="purpose"/>
    /// and <paramref name="binding"/>, and MAC'd with the key <paramref name="keyOf"/> gives for its key id
    /// (null: an unknown or revoked key). The one place a token's MAC is compared, in constant time.
    /// </summary>
    public static bool TryOpen(TokenPurpose purpose, string token, string binding, Func<uint, byte[]?> keyOf, [NotNullWhen(true)] out string[]? fields)
    {
        fields = null;
        if (!TryReadKeyId(token, out var keyId))
        {
            return false;
        }

        var raw = new byte[Base64Url.GetMaxDecodedLength(token.Length)];
        if (Base64Url.DecodeFromChars(token, raw, out _, out var length) != System.Buffers.OperationStatus.Done
            || !string.Equals(Base64Url.EncodeToString(raw.AsSpan(0, length)), token, StringComparison.Ordinal)
            || keyOf(keyId) is not { } key)
        {
            // Only the canonical encoding counts (no padding, whitespace or stray low bits): one token, one spelling.
            return false;
        }

        var content = raw.AsSpan(0, length - MacBytes);
        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(purpose, key, binding, content, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, raw.AsSpan(length - MacBytes, MacBytes)))
        {
            return false;
        }

        var list = new List<string>();
        for (var rest = content[HeaderBytes..]; !rest.IsEmpty;)
        {
            // MAC'd, so written by Seal; checked anyway, since a key is only as good as its storage.
            if (rest.Length < 2 || rest.Length - 2 < BinaryPrimitives.ReadUInt16BigEndian(rest))
            {
                return false;
            }

            var size = BinaryPrimitives.ReadUInt16BigEndian(rest);
            list.Add(Encoding.UTF8.GetString(rest.Slice(2, size)));
            rest = rest[(2 + size)..];
        }

        fields = [.. list];
        return true;
    }

    /// <summary>The purpose as <c>wharf admin</c> and the MAC spell it: <c>auth</c>, <c>page</c>, <c>download</c>, <c>bearer</c>.</summary>
    public static string NameOf(TokenPurpose purpose) => purpose switch
    {
        TokenPurpose.Auth => "auth",
        TokenPurpose.Page => "page",
        TokenPurpose.Download => "download",
        TokenPurpose.Bearer => "bearer",
        _ => throw new ArgumentOutOfRangeException(nameof(purpose)),
    };

    private static void Mac(TokenPurpose purpose, ReadOnlySpan<byte> key, string binding, ReadOnlySpan<byte> content, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes(NameOf(purpose) + "\0"));
        var bound = Encoding.UTF8.GetBytes(binding);
        Span<byte> boundLength = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(boundLength, bound.Length);
        hmac.AppendData(boundLength);
        hmac.AppendData(bound);
        hmac.AppendData(content);
        hmac.GetHashAndReset(mac);
    }
}
