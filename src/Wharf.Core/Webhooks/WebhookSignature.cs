using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Core.Webhooks;

/// <summary>
/// The signature of a webhook delivery (docs/operations.md "Webhooks"): <c>sha256=</c> and the lowercase hex
/// HMAC-SHA256, keyed with the subscription's secret (its UTF-8 bytes), of the ASCII decimal unix-seconds
/// timestamp, a dot, and the body's bytes exactly as sent. Signing the timestamp lets a receiver refuse a
/// replayed delivery outside its window.
/// </summary>
public static class WebhookSignature
{
    public const string Prefix = "sha256=";

    /// <summary>The <c>Wharf-Webhook-Signature</c> value for <paramref name="body"/> sent at <paramref name="timestamp"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        return Prefix + Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    /// <summary>
    /// True when <paramref name="signature"/> is the signature of <paramref name="body"/> at <paramref name="timestamp"/>
    /// (compared in constant time) and that timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>:
    /// what a receiver checks.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> secret, string? timestamp, ReadOnlySpan<byte> body, string? signature, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || signature is null
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, seconds, body));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }
}
