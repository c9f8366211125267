using System.CommandLine;

namespace Wharf.Server.Cli;

/// <summary><c>wharf admin webhook …</c>: subscriptions, the dead-letter list and redrive.</summary>
internal static class WebhookCommand
{
    /// <summary>Adds <c>webhook</c> and its subcommands to <paramref name="admin"/>.</summary>
    public static void AddTo(Command admin)
    {
    }
}
