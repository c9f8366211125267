using System.CommandLine;
using System.CommandLine.Invocation;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf serve</c> (the default), <c>wharf check</c>, <c>wharf gc</c>. Every problem a user can fix —
/// a bad flag, a bad setting, an unusable directory, an unreachable database — ends as one line on
/// stderr and exit code 2, never a stack trace.
/// </summary>
internal static class WharfCli
{
    /// <summary>Bad flags or settings: nothing was done.</summary>
    public const int ExitInvalid = 2;

    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand(
            """
            Wharf: a container registry that speaks Amazon ECR and the OCI Distribution Spec.
            With no command, runs 'serve'. Settings come from appsettings.json, then --config, then WHARF__*
            environment variables (WHARF__Registry__CreateOnPush=false sets Registry:CreateOnPush), then flags.
            """);
        foreach (var option in CliOptions.Shared.Concat(CliOptions.Listening))
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(GcCommand.Create());
        root.Subcommands.Add(EncryptCommand.Create());
        root.Subcommands.Add(LifecycleCommand.Create());
        root.Subcommands.Add(VulnDbCommand.Create());
        root.Subcommands.Add(AdminCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(ReplicationCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(AuditCommand.Create());
        ReplicationCredentialsCommand.AddTo(root);
        root.SetAction(ServeCommand.RunAsync);

        // The built-in --version prints the bare informational version (0.1.0+<40 hex digits>): say what it is.
        foreach (var version in root.Options.OfType<VersionOption>())
        {
            version.Description = "Print the version and the commit it was built from, e.g. 'wharf 0.1.0 (commit abcdef123456)'.";
            version.Action = new PrintVersion();
        }

        // Response files (@file expands to the file's words) are off: `--policy-document @policy.json`
        // must reach the command as written, which reads the file as the document (the AWS CLI's file://).
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            return Task.FromResult(Fail($"{OneLine(parse.Errors[0].Message).TrimEnd('.')}; run 'wharf --help' for usage"));
        }

        return parse.InvokeAsync();
    }

    /// <summary>Writes <c>wharf: message</c> on stderr and returns <see cref="ExitInvalid"/>.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"wharf: {OneLine(message)}");
        return ExitInvalid;
    }

    public static string OneLine(string message) =>
        string.Join(' ', message.ReplaceLineEndings(" ").Replace('\t', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries));

    public static string OneLine(Exception e) =>
        OneLine(e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message);

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            Console.WriteLine(Hosting.WharfVersion.Describe());
            return 0;
        }
    }
}
