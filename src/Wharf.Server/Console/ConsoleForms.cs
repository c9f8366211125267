using Microsoft.AspNetCore.Http.Features;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>
/// Console forms: every one posts to a console URL with the session's <c>_csrf</c> token and a <c>do</c>
/// field naming the action, urlencoded. <see cref="ConsoleRequestFilter"/> reads and checks the body before
/// any handler runs, within <see cref="MaxBodyBytes"/> (<see cref="MaxSignedOutBodyBytes"/> before sign-in).
/// </summary>
internal static class ConsoleForms
{
    /// <summary>The largest form a signed-in user may post: a lifecycle policy (30,720 characters) or a repository policy, with room to spare.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    /// <summary>The largest form read from someone not signed in (the sign-in form).</summary>
    public const int MaxSignedOutBodyBytes = 8 * 1024;

    /// <summary>The form field naming what a post asks for.</summary>
    public const string ActionField = "do";

    public static FormOptions Limits(int bodyBytes) => new()
    {
        BufferBody = false,
        ValueCountLimit = 512,
        KeyLengthLimit = 256,
        ValueLengthLimit = bodyBytes,
        MultipartBodyLengthLimit = bodyBytes,
    };

    /// <summary>
    /// Opens a form: <c>&lt;form method="post" action=…&gt;</c> with the CSRF token and the <c>do</c> field.
    /// <paramref name="confirm"/> makes the script ask first (destructive actions); the caller writes the fields and <c>&lt;/form&gt;</c>.
    /// </summary>
    public static Html Open(ConsoleUser user, string action, string doValue, string cssClass = "stack", string? confirm = null, string? label = null)
    {
        var html = new Html().Add($"<form method=\"post\" action=\"{action}\" class=\"{cssClass}\"");
        if (confirm is not null)
        {
            html.Attr("data-confirm", confirm);
        }

        if (label is not null)
        {
            html.Attr("aria-label", label);
        }

        return html.Add($"><input type=\"hidden\" name=\"{ConsoleCsrf.FieldName}\" value=\"{user.CsrfToken}\"><input type=\"hidden\" name=\"{ActionField}\" value=\"{doValue}\">");
    }

    /// <summary>A single-button form (delete, scan now, …).</summary>
    public static Html Button(ConsoleUser user, string action, string doValue, string buttonLabel, string buttonClass = "secondary", string? confirm = null, params (string Name, string Value)[] fields)
    {
        var html = Open(user, action, doValue, "inline", confirm);
        foreach (var (name, value) in fields)
        {
            html.Add($"<input type=\"hidden\" name=\"{name}\" value=\"{value}\">");
        }

        return html.Add($"<button type=\"submit\" class=\"{buttonClass}\">{buttonLabel}</button></form>");
    }

    /// <summary>The posted form (already read and checked by the filter).</summary>
    public static IFormCollection Form(HttpContext context) => context.Request.HasFormContentType ? context.Request.Form : FormCollection.Empty;

    /// <summary>A single-valued field, trimmed of nothing; null when absent.</summary>
    public static string? Field(HttpContext context, string name) =>
        Form(context).TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
}
