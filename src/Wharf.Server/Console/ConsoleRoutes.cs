using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>
/// Every console URL, built in one place so that pages link to each other consistently. A registry is
/// <c>/console/&lt;account&gt;/&lt;region&gt;/…</c>; a repository name (it has slashes) is always the last part of
/// a path, so each page of a repository has its own word before it. Pages that post forms post to their
/// own URL with a <c>do</c> field naming the action.
/// </summary>
internal static class ConsoleRoutes
{
    public const string Root = "/console";

    /// <summary>Where the assets live (the stylesheet and script, content-hashed).</summary>
    public const string AssetPrefix = Root + "/-/";

    public const string SignIn = Root + "/sign-in";
    public const string SignOut = Root + "/sign-out";

    /// <summary>Changing one's own password (required after sign-in when the login profile says so).</summary>
    public const string Password = Root + "/password";

    /// <summary>Every registry (account × region) the caller can reach.</summary>
    public const string Registries = Root + "/registries";

    public static string Home => Root + "/";

    /// <summary>A registry's repositories: <c>?q=</c> (name contains), <c>?sort=</c>, <c>?after=</c>.</summary>
    public static string Repositories(RegistryKey registry, string? query = null) => RegistryBase(registry) + "/repositories" + (query ?? string.Empty);

    public static string NewRepository(RegistryKey registry) => RegistryBase(registry) + "/repositories/new";

    /// <summary>A repository's images (<c>?tagged=</c>, <c>?prefix=</c>, <c>?status=</c>, <c>?after=</c>); posts: <c>do=delete|archive|restore|delete-repository</c>.</summary>
    public static string Repository(RepositoryKey key, string? query = null) => RegistryBase(key.Registry) + "/repository/" + Html.Path(key.Name.Value) + (query ?? string.Empty);

    /// <summary>An image (manifest or index) of a repository; posts: <c>do=scan</c>.</summary>
    public static string Image(RepositoryKey key, Digest digest) => RegistryBase(key.Registry) + "/image/" + digest + "/" + Html.Path(key.Name.Value);

    /// <summary>A repository's settings: <c>general</c> (mutability, scanning), <c>lifecycle</c>, <c>permissions</c> (policy), <c>tags</c>.</summary>
    public static string RepositorySettings(RepositoryKey key, string tab = "general") => RegistryBase(key.Registry) + "/settings/" + Html.Path(key.Name.Value) + "?tab=" + tab;

    /// <summary>A registry's settings: <c>scanning</c>, <c>policy</c>, <c>replication</c>, <c>pull-through</c>, <c>account</c>.</summary>
    public static string RegistrySettings(RegistryKey registry, string tab = "scanning") => RegistryBase(registry) + "/registry-settings?tab=" + tab;

    public const string Users = Root + "/iam/users";
    public const string Groups = Root + "/iam/groups";
    public const string Roles = Root + "/iam/roles";
    public const string Policies = Root + "/iam/policies";

    public static string User(string name) => Users + "/" + Uri.EscapeDataString(name);

    public static string Group(string name) => Groups + "/" + Uri.EscapeDataString(name);

    public static string Role(string name) => Roles + "/" + Uri.EscapeDataString(name);

    /// <summary>A customer managed policy, by ARN (query parameter: ARNs have slashes).</summary>
    public static string Policy(string arn) => Policies + "/view?arn=" + Uri.EscapeDataString(arn);

    private static string RegistryBase(RegistryKey registry) => $"{Root}/{registry.Account.Value}/{Uri.EscapeDataString(registry.Region)}";
}
