using System.Security.Cryptography;
using Wharf.Core.Primitives;

namespace Wharf.Core.Secrets;

/// <summary>
/// Secret ARNs, <c>arn:aws:secretsmanager:&lt;region&gt;:&lt;account&gt;:secret:&lt;name&gt;-&lt;6 random characters&gt;</c>,
/// and how a <c>SecretId</c> names a secret: by name, by full ARN, or by the ARN without its random suffix
/// (a partial ARN), as Secrets Manager accepts.
/// </summary>
public static class SecretArns
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>A new secret's ARN, its suffix drawn at random (so a secret made again under an old name is another resource).</summary>
    public static string New(RegistryKey registry, string name) =>
        $"{Prefix(registry)}{name}-{RandomNumberGenerator.GetString(Alphabet, 6)}";

    /// <summary>The ARN of a secret of that name without its suffix: what identity policies are asked about for a secret that does not exist.</summary>
    public static string Partial(RegistryKey registry, string name) => Prefix(registry) + name;

    /// <summary>
    /// What <paramref name="secretId"/> names: for an ARN, the registry it lies in and the resource part after
    /// <c>secret:</c> (a full ARN's name with suffix, or a partial ARN's name); for anything else, the name itself
    /// in <paramref name="registry"/>. Null for an ARN of another service or resource type.
    /// </summary>
    public static (RegistryKey Registry, string Resource, bool IsArn)? Parse(RegistryKey registry, string secretId)
    {
        if (!secretId.StartsWith("arn:", StringComparison.Ordinal))
        {
            return (registry, secretId, false);
        }

        var parts = secretId.Split(':', 7);
        return parts.Length == 7 && parts[2] == "secretsmanager" && parts[5] == "secret" && parts[6].Length > 0
            && AccountId.TryParse(parts[4], out var account) && parts[3].Length > 0
            ? (new RegistryKey(account, parts[3]), parts[6], true)
            : null;
    }

    private static string Prefix(RegistryKey registry) => $"arn:aws:secretsmanager:{registry.Region}:{registry.Account}:secret:";
}
