namespace Wharf.Server.WebConsole.Repositories;

/// <summary>The registries (account × region) and their repositories: list, search, sort, create, delete; a repository's images, with filters, delete, archive and restore, and its push commands.</summary>
internal static class RepositoryPages
{
    public static void AddServices(IServiceCollection services)
    {
        _ = services;
    }

    public static void Map(RouteGroupBuilder console)
    {
        _ = console;
    }
}
