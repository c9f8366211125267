using Wharf.Core.Errors;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>
/// One request's form state: the action that failed (if any), its alert, and what was posted, so each
/// form of the page renders again with the user's input and the page answers with the right status.
/// </summary>
internal sealed class FormState(HttpContext context)
{
    public string? FailedAction { get; private set; }

    public Html? Error { get; private set; }

    public int Status { get; private set; } = StatusCodes.Status200OK;

    /// <summary>The headline a <c>DeleteConflict</c> gets on this page (what to remove first).</summary>
    public string? ConflictHint { get; set; }

    /// <summary>Something shown once at the top of the page in place of a redirect (a new key's secret).</summary>
    public Html? Shown { get; set; }

    public void Fail(string action, WharfException e, string? conflictHint = null)
    {
        FailedAction = action;
        Error = IdentityView.Banner(e, conflictHint);
        Status = IdentityView.Status(e);
    }

    public void Fail(string action, string headline, string detail)
    {
        FailedAction = action;
        Error = ConsoleErrors.Banner(headline, detail);
        Status = StatusCodes.Status400BadRequest;
    }

    /// <summary>Whether the form for <paramref name="action"/> failed (it should be open).</summary>
    public bool Failed(string action) => FailedAction == action;

    /// <summary>What the form for <paramref name="action"/> shows in <paramref name="field"/>: the posted value after a failure, else <paramref name="fallback"/>.</summary>
    public string Value(string action, string field, string fallback = "") =>
        FailedAction == action ? ConsoleForms.Field(context, field) ?? fallback : fallback;
}
