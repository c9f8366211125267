using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Hosting;

namespace Wharf.Server.WebConsole;

/// <summary>
/// <c>--auth open</c>: the console opens without sign-in as the default account's root, as the API does.
/// A random browser cookie still binds form tokens to the browser, so a cross-site page cannot post forms.
/// </summary>
internal sealed class OpenConsoleSessions(IOptions<WharfOptions> options, ConsoleCsrf csrf) : IConsoleSessions
{
    public const string CookieName = "wharf-console-open";

    private readonly AccountId account = AccountId.Parse(options.Value.Registry.DefaultAccount);

    public async ValueTask<ConsoleUser?> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var value = context.Request.Cookies[CookieName];
        if (value is not { Length: 43 })
        {
            value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            context.Response.Cookies.Append(CookieName, value, ConsoleCookies.Options(context, expires: null));
        }

        var idHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value)));
        var caller = Caller.Root(account) with { SourceIp = context.Connection.RemoteIpAddress?.ToString(), SecureTransport = context.Request.IsHttps };
        return new ConsoleUser(caller, idHash, ConsoleSignInMethod.Open, await csrf.TokenAsync(idHash, cancellationToken));
    }
}

/// <summary>The console's cookie settings: HttpOnly, SameSite=Lax, Secure over TLS, scoped to <c>/console</c>.</summary>
internal static class ConsoleCookies
{
    public static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = context.Request.IsHttps,
        Path = ConsoleRoutes.Root,
        Expires = expires,
        IsEssential = true,
    };
}
