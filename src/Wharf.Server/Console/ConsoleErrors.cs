using Wharf.Core.Errors;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>
/// A refusal or a failure in plain words: what happened in a sentence, then the service's own message
/// (for a denial, AWS's reason: which principal, which action, which resource, and why). Pages show
/// <see cref="Banner(WharfException)"/> above the form or list that failed; nothing is lost from the message.
/// </summary>
internal static class ConsoleErrors
{
    /// <summary>The headline of <paramref name="exception"/>: what the user should understand first.</summary>
    public static string Headline(WharfException exception) => exception.Code switch
    {
        WharfErrorCode.Denied => "You are not allowed to do this.",
        WharfErrorCode.NameUnknown => "That repository does not exist (or was just deleted).",
        WharfErrorCode.ManifestUnknown or WharfErrorCode.ImageNotFound => "That image does not exist (or was just deleted).",
        WharfErrorCode.RepositoryAlreadyExists => "A repository with this name already exists.",
        WharfErrorCode.RepositoryNotEmpty => "The repository still has images.",
        WharfErrorCode.InvalidParameter or WharfErrorCode.IamValidation or WharfErrorCode.IamInvalidInput => "Something in the form is not valid.",
        WharfErrorCode.MalformedPolicyDocument => "The policy is not valid.",
        WharfErrorCode.PasswordPolicyViolation => "The password does not meet the password policy.",
        WharfErrorCode.Unavailable => "The registry cannot do this right now; try again in a moment.",
        _ => "The registry refused this request.",
    };

    /// <summary>An alert for the top of a page: the headline, then the service's message as it gave it.</summary>
    public static Html Banner(WharfException exception) =>
        new Html().Add($"<div class=\"alert error\" role=\"alert\"><p class=\"headline\">{Headline(exception)}</p><p class=\"reason\">{exception.Message}</p></div>");

    /// <summary>An alert with a message of the console's own (a form field it checked itself).</summary>
    public static Html Banner(string headline, string detail) =>
        new Html().Add($"<div class=\"alert error\" role=\"alert\"><p class=\"headline\">{headline}</p><p class=\"reason\">{detail}</p></div>");
}
