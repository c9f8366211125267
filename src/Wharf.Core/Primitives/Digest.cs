using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Wharf.Core.Primitives;

/// <summary>Supported content-digest algorithms (OCI image-spec "Registered algorithms").</summary>
public enum DigestAlgorithm
{
    Sha256,
    Sha512,
}

/// <summary>
/// A content digest, <c>algorithm:hex</c>, parsed once at the edge. Only the registered algorithms
/// sha256 and sha512 are accepted, with lowercase hex of the exact length.
/// </summary>
public readonly record struct Digest
{
    private static readonly SearchValues<char> AlgorithmChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789+._-");

    private Digest(DigestAlgorithm algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    public DigestAlgorithm Algorithm { get; }

    /// <summary>Lowercase hex of the hash.</summary>
    public string Hex { get; }

    public string AlgorithmName => Algorithm == DigestAlgorithm.Sha256 ? "sha256" : "sha512";

    public static int HexLength(DigestAlgorithm algorithm) => algorithm == DigestAlgorithm.Sha256 ? 64 : 128;

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null)
        {
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        DigestAlgorithm algorithm;
        switch (value.AsSpan(0, colon))
        {
            case "sha256":
                algorithm = DigestAlgorithm.Sha256;
                break;
            case "sha512":
                algorithm = DigestAlgorithm.Sha512;
                break;
            default:
                return false;
        }

        var hex = value.AsSpan(colon + 1);
        if (hex.Length != HexLength(algorithm))
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        digest = new Digest(algorithm, hex.ToString());
        return true;
    }

    /// <summary>True when the text has the OCI digest grammar but names an algorithm Wharf does not support.</summary>
    public static bool IsUnsupportedAlgorithm(string? value)
    {
        if (value is null)
        {
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            return false;
        }

        var algorithm = value.AsSpan(0, colon);
        return algorithm is not ("sha256" or "sha512") && algorithm.IndexOfAnyExcept(AlgorithmChars) < 0;
    }

    public static Digest Parse(string value) =>
        TryParse(value, out var digest) ? digest : throw new FormatException($"'{value}' is not a valid digest.");

    public static Digest FromHash(DigestAlgorithm algorithm, ReadOnlySpan<byte> hash) =>
        new(algorithm, Convert.ToHexStringLower(hash));

    /// <summary>Computes the digest of a small in-memory buffer (manifests).</summary>
    public static Digest Compute(DigestAlgorithm algorithm, ReadOnlySpan<byte> content) =>
        algorithm == DigestAlgorithm.Sha256
            ? FromHash(algorithm, SHA256.HashData(content))
            : FromHash(algorithm, SHA512.HashData(content));

    public static Digest Sha256Of(ReadOnlySpan<byte> content) => Compute(DigestAlgorithm.Sha256, content);

    public IncrementalHash CreateHash() =>
        IncrementalHash.CreateHash(Algorithm == DigestAlgorithm.Sha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA512);

    public override string ToString() => Hex is null ? string.Empty : $"{AlgorithmName}:{Hex}";
}
