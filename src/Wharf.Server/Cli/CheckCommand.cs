using System.CommandLine;
using System.Globalization;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Metadata;

namespace Wharf.Server.Cli;

/// <summary><c>wharf check</c>: one line per problem on stderr, a summary on stdout.</summary>
internal static class CheckCommand
{
    /// <summary>The check ran and found problems.</summary>
    public const int ExitProblems = 1;

    private static readonly Option<bool> Deep = new("--deep")
    {
        Description = "Also read every referenced blob and re-hash it against its digest (on S3 this downloads every blob).",
    };

    public static Command Create()
    {
        var check = new Command(
            "check",
            "Verify the store: every blob a manifest references must be in the blob store (the filesystem or the S3 bucket of Storage:*) with the recorded size, and with --deep the recorded digest (each is read and re-hashed). Prints one line per problem on stderr and a summary on stdout; exits 0 when all is well, 1 when problems were found, 2 when the settings are unusable. Safe to run while the server runs.");
        check.Options.Add(Deep);
        check.SetAction(RunAsync);
        return check;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            await app.Services.GetRequiredService<IMetadataStore>().MigrateAsync(cancellationToken);
            var checker = app.Services.GetRequiredService<StoreChecker>();
            var problems = 0;
            await foreach (var problem in checker.CheckAsync(parse.GetValue(Deep), cancellationToken))
            {
                problems++;
                await Console.Error.WriteLineAsync(problem);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checked {checker.BlobsChecked} referenced blobs: {(problems == 0 ? "no problems" : $"{problems} problems")}"));
            return problems == 0 ? 0 : ExitProblems;
        }
    }
}
