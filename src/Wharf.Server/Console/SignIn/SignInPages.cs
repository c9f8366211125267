using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Server.Hosting;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// Signing in and out: <c>/console/sign-in</c> (a login profile's password, or an access key pair),
/// <c>/console/sign-out</c>, <c>/console/password</c> (a required password change). IAM mode's
/// <see cref="IConsoleSessions"/> (the session cookie) is registered here.
/// </summary>
internal static class SignInPages
{
    public static void AddServices(IServiceCollection services, WharfOptions options)
    {
        if (options.Auth == AuthMode.Iam)
        {
            services.TryAddSingleton<IConsoleSessions, CookieConsoleSessions>();
        }
    }

    public static void Map(RouteGroupBuilder console)
    {
        _ = console;
    }
}
