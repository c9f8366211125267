namespace Wharf.Server.WebConsole.Identity;

/// <summary>IAM: users, groups, roles, access keys, login profiles and attached policies, for principals allowed iam:*.</summary>
internal static class IdentityPages
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
