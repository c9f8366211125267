using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Settings;

/// <summary>A repository's settings (tag mutability, scanning, lifecycle policy with preview, repository policy, resource tags) and a registry's (scanning, registry policy, replication, pull-through cache rules, account settings).</summary>
internal static class SettingsPages
{
    public static void AddServices(IServiceCollection services)
    {
        _ = services;
    }

    public static void Map(RouteGroupBuilder console)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post];
        console.MapMethods("/{account}/{region}/settings/{**name}", methods, RepositorySettingsPage.HandleAsync);
        console.MapMethods("/{account}/{region}/registry-settings", methods, RegistrySettingsPage.HandleAsync);
    }

    /// <summary>The registry a route names (checked as the repository pages check it), or null.</summary>
    public static RegistryKey? Registry(string account, string region) =>
        Repositories.ConsoleRouteValues.TryRegistry(account, region, out var registry) ? registry : null;

    /// <summary>A console 404 page for a route whose parts name nothing.</summary>
    public static Task NotFoundAsync(HttpContext context, string what) =>
        context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(
            context,
            ConsoleRequest.User(context),
            new ConsolePage("Page not found", ConsoleErrors.Banner("There is no console page at this address.", what)) { Status = StatusCodes.Status404NotFound });

    /// <summary>
    /// The status of a page that shows a refusal above its form: the catalogue's (400 invalid, 403 denied,
    /// 404 not found, 409 in progress); anything else a form could cause is the request's fault, 400.
    /// </summary>
    public static int Status(WharfException exception) =>
        ErrorCatalogue.Describe(exception.Code).OciStatus is var status and >= 400 and < 500 ? status
        : exception.Code == WharfErrorCode.Unavailable ? StatusCodes.Status503ServiceUnavailable
        : StatusCodes.Status400BadRequest;

    /// <summary>The tabs of a settings page as <c>nav.tabs</c>, the current one marked.</summary>
    public static Html Tabs(string label, string current, IEnumerable<(string Tab, string Label, string Href)> tabs)
    {
        var html = new Html().Add($"<nav class=\"tabs\" aria-label=\"{label}\"><ul>");
        foreach (var (tab, text, href) in tabs)
        {
            if (tab == current)
            {
                html.Add($"<li><a href=\"{href}\" aria-current=\"page\">{text}</a></li>");
            }
            else
            {
                html.Add($"<li><a href=\"{href}\">{text}</a></li>");
            }
        }

        return html.Raw("</ul></nav>");
    }

    /// <summary>
    /// A labelled JSON editor. The newline after the opening tag keeps a text's own leading newline (HTML
    /// drops the first one); the text is encoded like any value, so <c>&lt;/textarea&gt;</c> in it stays text.
    /// </summary>
    public static Html Editor(string id, string name, string label, string text, string hint, int rows = 18) =>
        new Html().Add($"<label for=\"{id}\">{label}</label><textarea id=\"{id}\" name=\"{name}\" rows=\"{rows}\" class=\"code\" spellcheck=\"false\" autocomplete=\"off\" autocapitalize=\"off\" aria-describedby=\"{id}-hint\">\n{text}</textarea><p class=\"hint\" id=\"{id}-hint\">{hint}</p>");

    /// <summary>The non-blank lines of a text field, trimmed (lists typed one a line).</summary>
    public static List<string> Lines(string? text) =>
        (text ?? string.Empty).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    /// <summary>What a post left: the action and the form, so that a page re-rendered after a refusal keeps what was typed.</summary>
    public static string? Typed(HttpContext context, string? posted, string action, string field) =>
        posted == action ? ConsoleForms.Field(context, field) : null;

    /// <summary>The <c>?after=</c> offset of a list paged by position (preview results), 0 when absent or not a number.</summary>
    public static int Offset(HttpContext context) =>
        int.TryParse(context.Request.Query["after"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset) ? offset : 0;
}
