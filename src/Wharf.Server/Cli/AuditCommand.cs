using System.CommandLine;

namespace Wharf.Server.Cli;

/// <summary><c>wharf audit</c>: the audit trail, filtered by time, principal, event name and repository.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var audit = new Command("audit", "Print the audit trail: API calls and /v2 writes, deletes and refusals.");
        audit.SetAction((_, _) => Task.FromResult(WharfCli.Fail("audit is not built yet")));
        return audit;
    }
}
