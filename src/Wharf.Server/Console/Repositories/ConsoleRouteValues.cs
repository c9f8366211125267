using System.Diagnostics.CodeAnalysis;
using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>The registry and repository a console URL names, checked as the API checks them; anything else is a page that says the address is wrong.</summary>
internal static class ConsoleRouteValues
{
    public static bool TryRegistry(string? account, string? region, [NotNullWhen(true)] out RegistryKey? registry)
    {
        registry = null;
        if (!AccountId.TryParse(account, out var id) || !IsRegion(region))
        {
            return false;
        }

        registry = new RegistryKey(id, region);
        return true;
    }

    public static bool TryRepository(string? account, string? region, string? name, [NotNullWhen(true)] out RepositoryKey? key)
    {
        key = null;
        if (!TryRegistry(account, region, out var registry) || !RepositoryName.TryParse(name, out var parsed))
        {
            return false;
        }

        key = new RepositoryKey(registry.Value, parsed);
        return true;
    }

    /// <summary>A plain region name as AWS spells them: lowercase words of letters and digits joined by '-' (never the public registry's <c>_public</c>).</summary>
    public static bool IsRegion([NotNullWhen(true)] string? region) =>
        region is { Length: > 0 and <= 64 }
        && region.Split('-') is var words
        && words.All(word => word.Length > 0 && word.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9'));

    /// <summary>The page for an address that names no registry or repository.</summary>
    public static Task NotFoundAsync(HttpContext context, ConsoleUser user, string what) =>
        context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(
            context,
            user,
            new ConsolePage("Not found", ConsoleErrors.Banner($"There is no such {what}.", $"The address does not name a {what}: an account is 12 digits, a region is a name such as us-east-1, and a repository name is lowercase letters, digits and . _ - / separators (2 to 256 characters).")) { Status = StatusCodes.Status404NotFound });

    /// <summary>A page for a query parameter the console cannot read (a forged or truncated link).</summary>
    public static Task BadRequestAsync(HttpContext context, ConsoleUser user, RegistryKey? registry, string headline, string detail) =>
        context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(
            context,
            user,
            new ConsolePage(headline, ConsoleErrors.Banner(headline, detail)) { Status = StatusCodes.Status400BadRequest, Registry = registry });

    /// <summary>The status a refused request's page answers with (as the console's filter picks it).</summary>
    public static int Status(Core.Errors.WharfException e) =>
        Core.Errors.ErrorCatalogue.Describe(e.Code).OciStatus is var status and >= 400 and < 600 ? status : StatusCodes.Status400BadRequest;

    /// <summary>A query parameter's single value, or null.</summary>
    public static string? Query(HttpContext context, string name) =>
        context.Request.Query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    /// <summary>The breadcrumbs' first step: the registry.</summary>
    public static (string Label, string? Href) RegistryCrumb(RegistryKey registry) =>
        ($"{registry.Account.Value} · {registry.Region}", ConsoleRoutes.Repositories(registry));

    public static Html Hidden(string name, string? value) => new Html().Add($"<input type=\"hidden\" name=\"{name}\" value=\"{value}\">");
}
