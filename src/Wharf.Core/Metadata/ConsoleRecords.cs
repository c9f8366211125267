namespace Wharf.Core.Metadata;

/// <summary>
/// An IAM login profile: the password a user (or an account's root) signs in to the console with.
/// <paramref name="PasswordHash"/> is <see cref="Identity.Passwords"/>' self-describing hash, never the password.
/// </summary>
public sealed record LoginProfileRecord(string PrincipalArn, string PasswordHash, bool PasswordResetRequired, DateTimeOffset CreatedAt);

/// <summary>How a console session was signed in.</summary>
public enum ConsoleSignInMethod
{
    /// <summary>A login profile's password.</summary>
    Password,

    /// <summary>An access key pair; the session ends when the key is deactivated or deleted.</summary>
    AccessKey,

    /// <summary><c>--auth open</c>: no sign-in, the default account's root.</summary>
    Open,
}

/// <summary>
/// A signed-in console session. The cookie carries a random token; only its SHA-256 (<paramref name="IdHash"/>)
/// is stored, so a copy of the database signs nobody in. <paramref name="AccessKeyId"/> is set for
/// <see cref="ConsoleSignInMethod.AccessKey"/>.
/// </summary>
public sealed record ConsoleSessionRecord(
    string IdHash,
    string PrincipalArn,
    ConsoleSignInMethod Method,
    string? AccessKeyId,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastSeenAt);
