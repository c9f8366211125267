using System.Security.Cryptography;

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
}
