using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Server.Hosting;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>Which identity list a page belongs to (the sub-navigation marks it).</summary>
internal enum IdentityTab
{
    Users,
    Groups,
    Roles,
    Policies,
}

/// <summary>
/// What the identity pages share: the shell (the Users | Groups | Roles | Policies tabs, breadcrumbs),
/// errors in IAM's words, paging links, and the state of a form that failed so that the page shows
/// it again with what was typed.
/// </summary>
internal static class IdentityView
{
    /// <summary>Writes an identity page: its tabs, then <paramref name="body"/>.</summary>
    public static Task WriteAsync(HttpContext context, ConsoleUser user, IdentityTab tab, string title, Html body, int status, params (string Label, string? Href)[] crumbs)
    {
        var html = new Html();
        html.Raw("<nav class=\"tabs\" aria-label=\"Identity\"><ul>");
        Tab(html, tab == IdentityTab.Users, ConsoleRoutes.Users, "Users");
        Tab(html, tab == IdentityTab.Groups, ConsoleRoutes.Groups, "Groups");
        Tab(html, tab == IdentityTab.Roles, ConsoleRoutes.Roles, "Roles");
        Tab(html, tab == IdentityTab.Policies, ConsoleRoutes.Policies, "Policies");
        html.Raw("</ul></nav>");
        html.Append(body);
        var layout = context.RequestServices.GetRequiredService<ConsoleLayout>();
        return layout.WriteAsync(context, user, new ConsolePage(title, html)
        {
            Status = status,
            Section = ConsoleSection.Identity,
            Breadcrumbs = [("Identity", ConsoleRoutes.Users), .. crumbs],
        });
    }

    /// <summary>The console's page size (<c>Console:PageSize</c>).</summary>
    public static int PageSize(HttpContext context) =>
        Math.Clamp(context.RequestServices.GetRequiredService<IOptions<WharfOptions>>().Value.Console.PageSize, 1, 500);

    /// <summary>The <c>?after=</c> cursor of a list (a name; anything longer than IAM allows is ignored).</summary>
    public static string? After(HttpContext context)
    {
        var after = context.Request.Query["after"].ToString();
        return after.Length is > 0 and <= 128 ? after : null;
    }

    /// <summary>"First page" and "Next page" links under a list.</summary>
    public static Html Pager(string baseUrl, string? after, string? next) =>
        ConsoleFormat.Pages("Pages", after is null ? null : (baseUrl, "First page"), next is null ? null : (baseUrl + Html.Query(("after", next)), "Next page"));

    /// <summary>The HTTP status of a page that shows <paramref name="e"/>.</summary>
    public static int Status(WharfException e)
    {
        var status = ErrorCatalogue.Describe(e.Code).OciStatus;
        return status is >= 400 and < 500 ? status : StatusCodes.Status400BadRequest;
    }

    /// <summary>
    /// An alert for <paramref name="e"/>: IAM's own errors with a headline that says what to do, anything else
    /// (a denial: AWS's reason) as the console says it everywhere.
    /// </summary>
    public static Html Banner(WharfException e, string? conflictHint = null) => e.Code switch
    {
        WharfErrorCode.DeleteConflict => ConsoleErrors.Banner(conflictHint ?? "Remove what depends on it first.", e.Message),
        WharfErrorCode.NoSuchEntity => ConsoleErrors.Banner("That does not exist (or was just deleted).", e.Message),
        WharfErrorCode.EntityAlreadyExists => ConsoleErrors.Banner("That name is taken.", e.Message),
        WharfErrorCode.IamLimitExceeded => ConsoleErrors.Banner("That would go over an IAM limit.", e.Message),
        _ => ConsoleErrors.Banner(e),
    };

    /// <summary>Runs a read for one part of a page; a refusal becomes that part's alert rather than the whole page's.</summary>
    public static async Task<(T? Value, Html? Error)> TryAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return (await read(), null);
        }
        catch (WharfException e)
        {
            return (default, Banner(e));
        }
    }

    /// <summary>Runs the read a whole page rests on; a refusal becomes the page's alert and its status (IAM's: 403, 404, 400…).</summary>
    public static async Task<(T? Value, Html? Error, int Status)> TryPageAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return (await read(), null, StatusCodes.Status200OK);
        }
        catch (WharfException e)
        {
            return (default, Banner(e), Status(e));
        }
    }

    /// <summary>The <c>open</c> attribute of a <c>&lt;details&gt;</c> when <paramref name="open"/> (a form that failed stays open).</summary>
    public static Html OpenIf(bool open) => open ? new Html().Raw(" open") : new Html();

    /// <summary>A <c>dl.facts</c> row.</summary>
    public static Html Fact(string term, Html value) => new Html().Add($"<dt>{term}</dt><dd>{value}</dd>");

    /// <summary>Text in <c>&lt;code&gt;</c> with a copy button.</summary>
    public static Html Copyable(string text, string label) => new Html().Add($"<code>{text}</code> ").Append(ConsoleFormat.CopyButton(text, label));

    private static void Tab(Html html, bool current, string href, string label)
    {
        if (current)
        {
            html.Add($"<li><a href=\"{href}\" aria-current=\"page\">{label}</a></li>");
        }
        else
        {
            html.Add($"<li><a href=\"{href}\">{label}</a></li>");
        }
    }
}
