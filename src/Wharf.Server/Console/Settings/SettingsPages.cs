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
        _ = console;
    }
}
