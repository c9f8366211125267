using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>Which part of the console a page belongs to (the header marks it as current).</summary>
internal enum ConsoleSection
{
    Repositories,
    Registries,
    RegistrySettings,
    Identity,
    Account,
}

/// <summary>
/// What a page handler renders: its title, body and place. <see cref="Registry"/> is the registry the page
/// is about (the header's links stay in it); <see cref="Breadcrumbs"/> lead from the registry to the page
/// (the last one is the page itself, without a link).
/// </summary>
internal sealed record ConsolePage(string Title, Html Body)
{
    public int Status { get; init; } = StatusCodes.Status200OK;

    public ConsoleSection Section { get; init; } = ConsoleSection.Repositories;

    public RegistryKey? Registry { get; init; }

    public IReadOnlyList<(string Label, string? Href)> Breadcrumbs { get; init; } = [];
}
