using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Server.Hosting;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// IAM mode: the session cookie names a session in the metadata store (by the SHA-256 of its value),
/// which must be within its idle and absolute timeouts and whose principal (and, for an access-key
/// session, key) must still be active. The caller is built as the API's identities build it, so every
/// policy condition (<c>aws:SourceIp</c>, <c>aws:SecureTransport</c>, <c>aws:userid</c>) sees the same.
/// </summary>
internal sealed class CookieConsoleSessions(IMetadataStore store, ConsoleCsrf csrf, TimeProvider time, IOptions<WharfOptions> options) : IConsoleSessions
{
    public const string CookieName = "wharf-console";

    /// <summary>Last-seen is written at most this often: a page view is a read, not a write, most of the time.</summary>
    public static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    private const int TokenLength = 43;

    public async ValueTask<ConsoleUser?> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var value = context.Request.Cookies[CookieName];
        if (value is not { Length: TokenLength })
        {
            return null;
        }

        var idHash = HashOf(value);
        var session = await store.Logins.GetSessionAsync(idHash, cancellationToken);
        if (session is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (await LivePrincipalAsync(session, now, cancellationToken) is not { } principal)
        {
            await store.Logins.DeleteSessionAsync(idHash, cancellationToken);
            Clear(context);
            return null;
        }

        if (now - session.LastSeenAt >= TouchInterval)
        {
            await store.Logins.TouchSessionAsync(idHash, now, cancellationToken);
        }

        var resetRequired = session.Method == ConsoleSignInMethod.Password
            && (await store.Logins.GetLoginProfileAsync(principal.Arn, cancellationToken))?.PasswordResetRequired == true;
        return new ConsoleUser(CallerOf(context, principal, session.AccessKeyId), idHash, session.Method, await csrf.TokenAsync(idHash, cancellationToken))
        {
            PasswordResetRequired = resetRequired,
        };
    }

    // The session's principal while the session may go on: within both timeouts, the principal still
    // there, and an access-key session's key still active and still the principal's.
    private async Task<PrincipalRecord?> LivePrincipalAsync(ConsoleSessionRecord session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var console = options.Value.Console;
        if (now - session.LastSeenAt > console.IdleTimeout || now - session.CreatedAt > console.AbsoluteTimeout)
        {
            return null;
        }

        if (session.Method == ConsoleSignInMethod.AccessKey
            && (session.AccessKeyId is null
                || await store.Identities.GetAccessKeyAsync(session.AccessKeyId, cancellationToken) is not { Active: true } key
                || key.PrincipalArn != session.PrincipalArn))
        {
            return null;
        }

        return await store.Identities.GetPrincipalAsync(session.PrincipalArn, cancellationToken);
    }

    /// <summary>Starts a session for <paramref name="principal"/>: a new random cookie, only its hash stored.</summary>
    public async Task<ConsoleUser> StartAsync(HttpContext context, PrincipalRecord principal, ConsoleSignInMethod method, string? accessKeyId, CancellationToken cancellationToken)
    {
        var value = NewToken();
        var idHash = HashOf(value);
        var now = time.GetUtcNow();
        await store.Logins.CreateSessionAsync(new ConsoleSessionRecord(idHash, principal.Arn, method, accessKeyId, now, now), cancellationToken);
        context.Response.Cookies.Append(CookieName, value, ConsoleCookies.Options(context, expires: now + options.Value.Console.AbsoluteTimeout));
        return new ConsoleUser(CallerOf(context, principal, accessKeyId), idHash, method, await csrf.TokenAsync(idHash, cancellationToken));
    }

    /// <summary>Ends the request's session (sign-out) and clears the cookie.</summary>
    public async Task EndAsync(HttpContext context, string idHash, CancellationToken cancellationToken)
    {
        await store.Logins.DeleteSessionAsync(idHash, cancellationToken);
        Clear(context);
    }

    /// <summary>32 random bytes, base64url without padding (43 characters).</summary>
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string HashOf(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value)));

    private static void Clear(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName, ConsoleCookies.Options(context, expires: null));

    // As SigV4ApiIdentity builds a key's caller: the principal, its unique id, the key, where the request came from.
    private static Caller CallerOf(HttpContext context, PrincipalRecord principal, string? accessKeyId) =>
        new(principal.Account, principal.Arn, IsAnonymous: false)
        {
            UserId = principal.UniqueId,
            AccessKeyId = accessKeyId,
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            SecureTransport = context.Request.IsHttps,
        };
}
