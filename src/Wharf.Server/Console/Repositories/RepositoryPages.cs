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
        string[] read = [HttpMethods.Get, HttpMethods.Head];
        string[] readWrite = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post];
        console.MapMethods("/registries", read, RegistriesPage.ShowAsync);
        console.MapMethods("/{account}/{region}/repositories", read, RepositoryListPage.ShowAsync);
        console.MapMethods("/{account}/{region}/repositories/new", readWrite, CreateRepositoryPage.HandleAsync);
        console.MapMethods("/{account}/{region}/repository/{**name}", readWrite, RepositoryImagesPage.HandleAsync);
    }
}
