using Wharf.Core.Metadata;
using Wharf.Core.Security;

namespace Wharf.Server.WebConsole;

/// <summary>
/// Who is using the console on this request: the caller every service call is made as, and what binds
/// the request's forms to its session. <paramref name="SessionIdHash"/> is the SHA-256 of the session
/// cookie (hex); <paramref name="CsrfToken"/> is what every form must send back as <c>_csrf</c>.
/// </summary>
internal sealed record ConsoleUser(Caller Caller, string SessionIdHash, ConsoleSignInMethod Method, string CsrfToken)
{
    /// <summary>What the header shows: the user or role name, or "root" for an account's root.</summary>
    public string DisplayName => Caller.IsRoot ? "root" : Caller.PrincipalArn.Split('/')[^1];

    /// <summary>Signed in with a password that must be changed first: every page but the password page sends the user there.</summary>
    public bool PasswordResetRequired { get; init; }
}

/// <summary>
/// The seam that turns a console request into a <see cref="ConsoleUser"/>: the session cookie in IAM mode
/// (null: not signed in, or the session ended), the default account's root in <c>--auth open</c>.
/// </summary>
internal interface IConsoleSessions
{
    ValueTask<ConsoleUser?> ResolveAsync(HttpContext context, CancellationToken cancellationToken);
}
