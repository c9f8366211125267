using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Metadata;

namespace Wharf.Core.Identity;

/// <summary>Access key ids and secrets in AWS's shapes: <c>AKIA</c> + 16 base-32 characters, 40-character secrets.</summary>
public static class AccessKeys
{
    private const string Base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// <summary>A long-term key id (<c>AKIA…</c>); temporary credentials use <c>ASIA</c>.</summary>
    public static string NewId(string prefix = "AKIA") => prefix + RandomNumberGenerator.GetString(Base32, 16);

    public static string NewSecret() => RandomNumberGenerator.GetString(SecretAlphabet, 40);

    /// <summary>A principal's unique id (<c>AIDA…</c> for users, as IAM).</summary>
    public static string NewPrincipalId(string prefix = "AIDA") => prefix + RandomNumberGenerator.GetString(Base32, 17);

    /// <summary>A new active key for <paramref name="principalArn"/>: its record, the secret sealed and bound to the key id, and the secret itself (shown once).</summary>
    public static (AccessKeyRecord Record, string Secret) Issue(string principalArn, SecretBox secrets, DateTimeOffset now)
    {
        var id = NewId();
        var secret = NewSecret();
        return (new AccessKeyRecord(id, principalArn, secrets.Seal(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(id)), true, now), secret);
    }

    /// <summary>The key's secret; throws <see cref="CryptographicException"/> when it was sealed under another master key or moved to another key.</summary>
    public static string Unseal(AccessKeyRecord key, SecretBox secrets) =>
        Encoding.UTF8.GetString(secrets.Open(key.SealedSecret, Encoding.UTF8.GetBytes(key.Id)));
}
