using Wharf.Core.Errors;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>Where a successful form leads (Post/Redirect/Get) and what the next page says once.</summary>
internal sealed record Redirect(string Url, string Notice);

/// <summary>
/// IAM: users, groups, roles, access keys, login profiles and attached policies, for principals allowed
/// <c>iam:*</c>, under <c>/console/iam/</c>. Every page reads and changes through <c>IdentityService</c> as the
/// signed-in principal, so a principal without IAM permissions sees AWS's reason instead of data.
/// </summary>
internal static class IdentityPages
{
    public static void AddServices(IServiceCollection services)
    {
        // IdentityService is registered with IAM's Query API; the pages add nothing of their own.
        _ = services;
    }

    public static void Map(RouteGroupBuilder console)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post];
        console.MapGet("/iam", (HttpContext context) => ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Users));
        console.MapMethods(Relative(ConsoleRoutes.Users), methods, UserPages.ListAsync);
        console.MapMethods(Relative(ConsoleRoutes.Users) + "/{name}", methods, UserPages.UserAsync);
        console.MapMethods(Relative(ConsoleRoutes.Groups), methods, GroupPages.ListAsync);
        console.MapMethods(Relative(ConsoleRoutes.Groups) + "/{name}", methods, GroupPages.GroupAsync);
        console.MapMethods(Relative(ConsoleRoutes.Roles), methods, RolePages.ListAsync);
        console.MapMethods(Relative(ConsoleRoutes.Roles) + "/{name}", methods, RolePages.RoleAsync);
        console.MapMethods(Relative(ConsoleRoutes.Policies), methods, PolicyPages.ListAsync);
        console.MapMethods(Relative(ConsoleRoutes.Policy(string.Empty).Split('?')[0]), methods, PolicyPages.PolicyAsync);
    }

    /// <summary>
    /// A page that posts to itself: for a post, runs <paramref name="post"/> with the <c>do</c> action and
    /// redirects on success; a refusal (or <paramref name="post"/> answering null, having put something on
    /// <see cref="FormState.Shown"/>) renders the page again, with what was typed.
    /// </summary>
    public static async Task HandleAsync(HttpContext context, Func<ConsoleUser, string, FormState, Task<Redirect?>> post, Func<ConsoleUser, FormState, Task> render)
    {
        var user = ConsoleRequest.User(context);
        var state = new FormState(context);
        if (HttpMethods.IsPost(context.Request.Method))
        {
            var action = ConsoleForms.Field(context, ConsoleForms.ActionField) ?? string.Empty;
            try
            {
                if (await post(user, action, state) is { } redirect)
                {
                    await ConsoleLayout.RedirectAsync(context, redirect.Url, redirect.Notice);
                    return;
                }
            }
            catch (WharfException e)
            {
                state.Fail(action, e, state.ConflictHint);
            }
        }

        await render(user, state);
    }

    /// <summary>After a panel's action: a redirect with its notice, the page again (something shown once, or a form that failed), or the action was unknown.</summary>
    public static Redirect? Done(string? notice, string here, FormState state, string action) =>
        notice is not null ? new Redirect(here, notice)
        : state.Shown is not null || state.FailedAction is not null ? null
        : Unknown(state, action);

    /// <summary>The answer to a <c>do</c> this page does not know.</summary>
    public static Redirect? Unknown(FormState state, string action)
    {
        state.Fail(action, "This page cannot do that.", "The form asked for an action this page does not have. Reload the page and try again.");
        return null;
    }

    private static string Relative(string route) => route[ConsoleRoutes.Root.Length..];
}
