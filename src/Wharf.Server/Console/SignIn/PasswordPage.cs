using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// <c>/console/password</c>: the signed-in user changes its own password (IAM's <c>ChangePassword</c>, as
/// the user: it needs <c>iam:ChangePassword</c> on itself). A login profile with a reset required sends
/// every page here until it is done. Changing the password ends every session of the user, this one
/// included, so the page signs the user in again with a new cookie.
/// </summary>
internal sealed class PasswordPage(ConsoleLayout layout, IConsoleSessions sessions, IMetadataStore store, SignInThrottle throttle)
{
    public Task GetAsync(HttpContext context) =>
        WriteAsync(context, ConsoleRequest.User(context), SignInPages.SafeNext(context.Request.Query["next"]), StatusCodes.Status200OK, error: null);

    public async Task PostAsync(HttpContext context)
    {
        var user = ConsoleRequest.User(context);
        var ct = context.RequestAborted;
        var next = SignInPages.SafeNext(ConsoleForms.Field(context, "next"));
        var current = ConsoleForms.Field(context, "current") ?? string.Empty;
        var fresh = ConsoleForms.Field(context, "new") ?? string.Empty;
        if (fresh != (ConsoleForms.Field(context, "confirm") ?? string.Empty))
        {
            await WriteAsync(context, user, next, StatusCodes.Status400BadRequest, ConsoleErrors.Banner("The new passwords do not match.", "Type the same new password in both boxes."));
            return;
        }

        // Guessing the current password from a stolen session is throttled like signing in.
        var name = "change:" + user.Caller.PrincipalArn;
        var source = context.Connection.RemoteIpAddress?.ToString();
        if (throttle.RetryAfter(name, source) is { } wait)
        {
            var minutes = Math.Max(1, (int)Math.Ceiling(wait.TotalMinutes));
            await WriteAsync(context, user, next, StatusCodes.Status429TooManyRequests, ConsoleErrors.Banner("Too many failed attempts.", $"Try again in {minutes} {(minutes == 1 ? "minute" : "minutes")}."));
            return;
        }

        try
        {
            await context.RequestServices.GetRequiredService<IdentityService>().ChangePasswordAsync(user.Caller, current, fresh, ct);
        }
        catch (WharfException e)
        {
            if (e.Code == WharfErrorCode.Denied && e.Message.StartsWith("The old password", StringComparison.Ordinal))
            {
                throttle.Failed(name, source);
            }

            var status = ErrorCatalogue.Describe(e.Code).OciStatus;
            await WriteAsync(context, user, next, status is >= 400 and < 500 ? status : StatusCodes.Status400BadRequest, ConsoleErrors.Banner(e));
            return;
        }

        throttle.Succeeded(name);
        if (sessions is CookieConsoleSessions cookies && await store.Identities.GetPrincipalAsync(user.Caller.PrincipalArn, ct) is { } principal)
        {
            await cookies.StartAsync(context, principal, user.Method, user.Caller.AccessKeyId, ct);
        }

        await ConsoleLayout.RedirectAsync(context, next ?? ConsoleRoutes.Home, "Your password has been changed.");
    }

    private Task WriteAsync(HttpContext context, ConsoleUser user, string? next, int status, Html? error)
    {
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Change your password</h1></div>");
        if (user.PasswordResetRequired)
        {
            html.Raw("<div class=\"alert warning\" role=\"status\"><p>Your password must be changed before you continue.</p></div>");
        }

        if (error is not null)
        {
            html.Append(error);
        }

        html.Append(ConsoleForms.Open(user, ConsoleRoutes.Password, "change", label: "Change your password"));
        if (next is not null)
        {
            html.Add($"<input type=\"hidden\" name=\"next\" value=\"{next}\">");
        }

        html.Raw("<label for=\"password-current\">Current password</label><input id=\"password-current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" maxlength=\"128\" required>");
        html.Add($"<label for=\"password-new\">New password</label><p class=\"hint\" id=\"password-rule\">{IdentityService.MinPasswordLength} to {Passwords.MaxLength} characters, with at least three of: uppercase letters, lowercase letters, numbers and symbols.</p>");
        html.Raw("<input id=\"password-new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" maxlength=\"128\" required aria-describedby=\"password-rule\">");
        html.Raw("<label for=\"password-confirm\">Confirm new password</label><input id=\"password-confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" maxlength=\"128\" required>");
        html.Raw("<button type=\"submit\">Change password</button></form>");
        return layout.WriteAsync(context, user, new ConsolePage("Change your password", html) { Status = status, Section = ConsoleSection.Account });
    }
}
