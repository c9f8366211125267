using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>A user's login profile (the console password): created, reset or deleted through IAM's login-profile operations.</summary>
internal static class LoginProfilePanel
{
    /// <summary>Runs a login-profile action; the notice after it, or null when the action is not one of these.</summary>
    public static Task<string?> HandleAsync(HttpContext context, ConsoleUser user, string name, string action, FormState state)
    {
        _ = (context, user, name, action, state);
        return Task.FromResult<string?>(null);
    }

    public static Task<Html> RenderAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        _ = (context, user, name, state);
        return Task.FromResult(new Html());
    }
}
