using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>
/// A user's login profile (its console password): created with a password and, optionally, a reset
/// required at the next sign-in; the password reset; deleted. Through IAM's login-profile operations, so
/// AWS's password policy applies. A password typed here is never written back into a page.
/// </summary>
internal static class LoginProfilePanel
{
    private const string CreateAction = "create-login-profile";
    private const string UpdateAction = "update-login-profile";
    private const string DeleteAction = "delete-login-profile";

    /// <summary>Runs a login-profile action; the notice after it, or null when the action is not one of these.</summary>
    public static async Task<string?> HandleAsync(HttpContext context, ConsoleUser user, string name, string action, FormState state)
    {
        _ = state;
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var ct = context.RequestAborted;
        var password = ConsoleForms.Field(context, "password") ?? string.Empty;
        var reset = ConsoleForms.Field(context, "reset-required") == "true";
        switch (action)
        {
            case CreateAction:
                await iam.CreateLoginProfileAsync(user.Caller, name, password, reset, ct);
                return $"{name} can now sign in to the console with this password.";
            case UpdateAction:
                await iam.UpdateLoginProfileAsync(user.Caller, name, password, reset, ct);
                return $"Set a new password for {name}; its console sessions signed in with the old one have ended.";
            case DeleteAction:
                await iam.DeleteLoginProfileAsync(user.Caller, name, ct);
                return $"{name} can no longer sign in with a password.";
            default:
                return null;
        }
    }

    public static async Task<Html> RenderAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var here = ConsoleRoutes.User(name);
        var html = new Html();
        html.Raw("<section aria-labelledby=\"login\"><h2 id=\"login\">Console password</h2>");
        Core.Metadata.LoginProfileRecord? profile;
        try
        {
            profile = await iam.GetLoginProfileAsync(user.Caller, name, context.RequestAborted);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.NoSuchEntity)
        {
            profile = null;
        }
        catch (WharfException e)
        {
            return html.Append(IdentityView.Banner(e)).Raw("</section>");
        }

        if (profile is null)
        {
            html.Raw("<p class=\"muted\">This user has no login profile: it cannot sign in to the console with a password.</p>");
            html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(CreateAction))}><summary>Create a login profile</summary>");
            PasswordForm(html, user, here, CreateAction, "Create login profile", state, resetDefault: true);
            return html.Raw("</details></section>");
        }

        html.Raw("<dl class=\"facts\">");
        html.Append(IdentityView.Fact("Created", ConsoleFormat.Time(profile.CreatedAt, DateTimeOffset.UtcNow)));
        html.Append(IdentityView.Fact("New password required", new Html().Text(profile.PasswordResetRequired ? "Yes, at the next sign-in" : "No")));
        html.Raw("</dl><div class=\"actions\">");
        html.Append(ConsoleForms.Button(user, here, DeleteAction, "Delete login profile", "danger", $"Delete the login profile of {name}? It can no longer sign in with a password."));
        html.Raw("</div>");
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(UpdateAction))}><summary>Reset the password</summary>");
        PasswordForm(html, user, here, UpdateAction, "Set password", state, resetDefault: true);
        return html.Raw("</details></section>");
    }

    private static void PasswordForm(Html html, ConsoleUser user, string here, string action, string button, FormState state, bool resetDefault)
    {
        var reset = state.Failed(action) ? state.Value(action, "reset-required") == "true" : resetDefault;
        html.Append(ConsoleForms.Open(user, here, action, label: button));
        html.Add($"<div><label for=\"{action}-password\">New password</label><input type=\"password\" id=\"{action}-password\" name=\"password\" required minlength=\"{IdentityService.MinPasswordLength}\" maxlength=\"128\" autocomplete=\"new-password\" aria-describedby=\"{action}-password-hint\">");
        html.Add($"<p class=\"hint\" id=\"{action}-password-hint\">{IdentityService.MinPasswordLength} to 128 characters with at least three of: upper case, lower case, digits, symbols. It is not shown again.</p></div>");
        html.Add($"<label class=\"check\"><input type=\"checkbox\" name=\"reset-required\" value=\"true\"{(reset ? new Html().Raw(" checked") : new Html())}> Require a new password at the next sign-in</label>");
        html.Add($"<div><button type=\"submit\">{button}</button></div></form>");
    }
}
