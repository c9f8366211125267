namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// IAM mode: the session cookie names a session in the metadata store (by the SHA-256 of its value),
/// which must be within its idle and absolute timeouts and whose principal (and, for an access-key
/// session, key) must still be active.
/// </summary>
internal sealed class CookieConsoleSessions : IConsoleSessions
{
    public const string CookieName = "wharf-console";

    // Until sign-in lands: nobody is signed in.
    public ValueTask<ConsoleUser?> ResolveAsync(HttpContext context, CancellationToken cancellationToken) => ValueTask.FromResult<ConsoleUser?>(null);
}
