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

    /// <summary>How many problems <c>--json</c> lists (all are counted, and all go to stderr).</summary>
    private const int MaxListed = 1000;

    /// <summary><c>wharf check --json</c>: the first problems as the lines stderr has (<c>digest: what is wrong</c>).</summary>
    internal sealed record CheckResult(int BlobsChecked, bool Deep, int ProblemCount, IReadOnlyList<string> Problems, int Unencrypted);

    private static readonly Option<bool> Deep = new("--deep")
    {
        Description = "Also read every referenced blob and re-hash it against its digest (on S3 this downloads every blob).",
    };

    public static Command Create()
    {
        var check = new Command(
            "check",
            "Verify the store: every blob a manifest references must be in the blob store (the filesystem or the S3 bucket of Storage:*) with the recorded size, and with --deep the recorded digest (each is read, decrypted when sealed, and re-hashed); also counts the referenced blobs still stored unencrypted (plaintext from before encryption at rest: 'wharf encrypt' seals them), which are not problems. Prints one line per problem on stderr and a summary on stdout; exits 0 when all is well, 1 when problems were found, 2 when the settings are unusable. Safe to run while the server runs. Progress goes to stderr (a bar at a terminal, plain lines otherwise).");
        check.Options.Add(Deep);
        check.Options.Add(CliOptions.Json);
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
            var deep = parse.GetValue(Deep);
            var sealing = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.WharfOptions>>().Value.Encryption.Enabled;
            var json = parse.GetValue(CliOptions.Json);
            var listed = new List<string>();
            var problems = await CliProgress.RunAsync("wharf check", async progress =>
            {
                var count = 0;
                await foreach (var problem in checker.CheckAsync(deep, progress, cancellationToken))
                {
                    count++;
                    await Console.Error.WriteLineAsync(problem);

                    // The document lists the first problems only: a store that lost its disk has a line per blob.
                    if (json && listed.Count < MaxListed)
                    {
                        listed.Add(problem);
                    }
                }

                return count;
            });

            if (json)
            {
                CliJson.Write(new CheckResult(checker.BlobsChecked, deep, problems, listed, checker.Unencrypted));
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checked {checker.BlobsChecked} referenced blobs: {(problems == 0 ? "no problems" : $"{problems} problems")}"));

                // Not a problem (the blobs are intact and readable), but not what sealing promises either.
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{checker.Unencrypted} referenced blobs stored unencrypted{(checker.Unencrypted > 0 && sealing ? ": run 'wharf encrypt' (or let the servers' encrypt job) seal them" : string.Empty)}"));
            }

            return problems == 0 ? 0 : ExitProblems;
        }
    }
}
