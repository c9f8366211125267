using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Primitives;

namespace Wharf.Core.Identity;

/// <summary>
/// A role session from STS <c>AssumeRole</c>: the role, the session's name and when it ends. Its
/// principal is <c>arn:aws:sts::&lt;account&gt;:assumed-role/&lt;role&gt;/&lt;session&gt;</c>, its user id
/// <c>&lt;role id&gt;:&lt;session&gt;</c>, as in AWS.
/// </summary>
public sealed record RoleSession(string RoleArn, string RoleUniqueId, string SessionName, DateTimeOffset ExpiresAt)
{
    public AccountId Account => AccountId.Parse(RoleArn.Split(':')[4]);

    public string Arn => $"arn:aws:sts::{Account}:assumed-role/{RoleArn[(RoleArn.LastIndexOf('/') + 1)..]}/{SessionName}";

    public string UserId => $"{RoleUniqueId}:{SessionName}";

    /// <summary>
    /// The IAM entity whose policies apply to <paramref name="principalArn"/>: the role of an
    /// assumed-role session, else the principal itself.
    /// </summary>
    public static string IdentityArnOf(string principalArn)
    {
        const string Marker = ":assumed-role/";
        var at = principalArn.IndexOf(Marker, StringComparison.Ordinal);
        if (!principalArn.StartsWith("arn:aws:sts::", StringComparison.Ordinal) || at < 0)
        {
            return principalArn;
        }

        var account = principalArn["arn:aws:sts::".Length..at];
        var rest = principalArn[(at + Marker.Length)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return $"arn:aws:iam::{account}:role/{(slash < 0 ? rest : rest[..slash])}";
    }
}

/// <summary>
/// Temporary credentials (<c>ASIA…</c> key, secret, session token) that need no row: the session token
/// is the session and its secret sealed (AES-GCM) under the master key and bound to the key id, so any
/// node verifies them, nothing is stored, and a token moved to another key id opens nowhere.
/// </summary>
public static class SessionCredentials
{
    private const string Version = "wharf-session-1";

    public static (string AccessKeyId, string Secret, string SessionToken) Issue(RoleSession session, SecretBox secrets)
    {
        var id = AccessKeys.NewId("ASIA");
        var secret = AccessKeys.NewSecret();
        var payload = string.Join('\n', Version, secret, session.RoleArn, session.RoleUniqueId, session.SessionName, session.ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        var token = Convert.ToBase64String(secrets.Seal(Encoding.UTF8.GetBytes(payload), Bind(id)));
        return (id, secret, token);
    }

    /// <summary>The session and secret the token holds for <paramref name="accessKeyId"/>; null when the token is not one Wharf issued for that key.</summary>
    public static (RoleSession Session, string Secret)? Open(string accessKeyId, string sessionToken, SecretBox secrets)
    {
        byte[] opened;
        try
        {
            opened = secrets.Open(Convert.FromBase64String(sessionToken), Bind(accessKeyId));
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(opened).Split('\n');
        return parts.Length == 6 && parts[0] == Version && long.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            ? (new RoleSession(parts[2], parts[3], parts[4], DateTimeOffset.FromUnixTimeSeconds(expires)), parts[1])
            : null;
    }

    private static byte[] Bind(string accessKeyId) => Encoding.UTF8.GetBytes("sts-session:" + accessKeyId);
}
