using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// Signing in and out: <c>/console/sign-in</c> (a login profile's password, or an access key pair),
/// <c>/console/sign-out</c>, <c>/console/password</c> (changing one's password; required after sign-in
/// when the login profile says so). IAM mode's <see cref="IConsoleSessions"/> (the session cookie) and the
/// job that prunes expired sessions are registered here.
/// </summary>
internal static class SignInPages
{
    public static void AddServices(IServiceCollection services, WharfOptions options)
    {
        services.TryAddSingleton<SignInThrottle>();
        services.TryAddSingleton<SignInHandler>();
        services.TryAddSingleton<PasswordPage>();
        if (options.Auth == AuthMode.Iam)
        {
            services.TryAddSingleton<CookieConsoleSessions>();
            services.TryAddSingleton<IConsoleSessions>(sp => sp.GetRequiredService<CookieConsoleSessions>());
            services.AddSingleton<IBackgroundJob, ConsoleSessionPruneJob>();
        }
    }

    public static void Map(RouteGroupBuilder console)
    {
        console.MapGet("/sign-in", (HttpContext context) => context.RequestServices.GetRequiredService<SignInHandler>().GetAsync(context))
            .WithMetadata(SignedOutAllowed.Instance);
        console.MapPost("/sign-in", (HttpContext context) => context.RequestServices.GetRequiredService<SignInHandler>().PostAsync(context))
            .WithMetadata(SignedOutAllowed.Instance);
        console.MapPost("/sign-out", (HttpContext context) => context.RequestServices.GetRequiredService<SignInHandler>().SignOutAsync(context))
            .WithMetadata(PasswordChangeAllowed.Instance);
        console.MapGet("/password", (HttpContext context) => context.RequestServices.GetRequiredService<PasswordPage>().GetAsync(context))
            .WithMetadata(PasswordChangeAllowed.Instance);
        console.MapPost("/password", (HttpContext context) => context.RequestServices.GetRequiredService<PasswordPage>().PostAsync(context))
            .WithMetadata(PasswordChangeAllowed.Instance);
    }

    /// <summary>
    /// Where to go after signing in: <paramref name="next"/> when it is a console path of this site (no
    /// other host, scheme, <c>//</c>, backslash, dot segment or control character, raw or percent-decoded),
    /// else null. Guards the sign-in page against being an open redirect.
    /// </summary>
    public static string? SafeNext(string? next)
    {
        if (string.IsNullOrEmpty(next) || next.Length > 2048)
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(next);
        }
        catch (UriFormatException)
        {
            return null;
        }

        foreach (var candidate in new[] { next, decoded })
        {
            if (!(candidate == ConsoleRoutes.Root || candidate.StartsWith(ConsoleRoutes.Root + "/", StringComparison.Ordinal))
                || candidate.Contains("//", StringComparison.Ordinal) || candidate.Contains('\\', StringComparison.Ordinal)
                || candidate.Any(char.IsControl) || candidate.Split('?')[0].Split('/').Any(s => s is "." or "..")
                || candidate.StartsWith(ConsoleRoutes.SignIn, StringComparison.Ordinal) || candidate.StartsWith(ConsoleRoutes.SignOut, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return next;
    }
}
