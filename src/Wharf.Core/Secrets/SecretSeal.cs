using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Identity;

namespace Wharf.Core.Secrets;

/// <summary>
/// Seals and opens secret values with the master key (<see cref="SecretBox"/>, AES-256-GCM). Each value is
/// bound to its secret's ARN and its version id as associated data, so a value copied to another secret or
/// version (or a secret made again under the same name, which has another ARN) fails to open.
/// </summary>
internal static class SecretSeal
{
    public static SecretVersion Seal(SecretBox box, string arn, string versionId, SecretValue value, IReadOnlyList<string> stages, DateTimeOffset now)
    {
        var plain = value.Bytes();
        try
        {
            return new SecretVersion(versionId, box.Seal(plain, Binding(arn, versionId)), value.Text is null, stages, now);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>The value, or null when it does not open (another master key, or a value moved or altered).</summary>
    public static SecretValue? TryOpen(SecretBox box, string arn, SecretVersion version)
    {
        try
        {
            return SecretValue.From(box.Open(version.SealedValue, Binding(arn, version.VersionId)), version.IsBinary);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static byte[] Binding(string arn, string versionId) => Encoding.UTF8.GetBytes($"secretsmanager\n{arn}\n{versionId}");
}
