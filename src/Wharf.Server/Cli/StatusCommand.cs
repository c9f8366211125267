using System.CommandLine;

namespace Wharf.Server.Cli;

/// <summary><c>wharf status</c>: a running install at a glance (version, backends and their health, jobs, counts and sizes).</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var status = new Command("status", "Show the install: version, backends and their health, background jobs and their last runs, counts and sizes.");
        status.SetAction((_, _) => Task.FromResult(WharfCli.Fail("status is not built yet")));
        return status;
    }
}
