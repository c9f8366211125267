namespace Wharf.Server.WebConsole.Images;

/// <summary>An image: its manifest or index, layers, config, referrers and scan findings; scan now.</summary>
internal static class ImagePages
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
