using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf encrypt</c>: seals an install's plaintext blobs in place (<see cref="EncryptionMigrator"/>) under the
/// background job's lease, so it never runs beside a server's own run; stopped at any point, the next run resumes.
/// </summary>
internal static class EncryptCommand
{
    /// <summary>Some blobs could not be sealed, or a server is running the job now.</summary>
    public const int ExitIncomplete = 1;

    /// <summary><c>wharf encrypt --json</c>.</summary>
    internal sealed record EncryptResult(
        long PlaintextBlobs, long CopiesSealed, long PlaintextDeleted, long PlaintextWaiting, DateTimeOffset? WaitingUntil, long Failed, long Unencrypted);

    private static readonly Option<TimeSpan?> Grace = new("--grace")
    {
        Description = "How long a blob's plaintext is kept after it was sealed, for reads that opened it just before (hh:mm:ss). Default Gc:GraceWindow (1 h); 0 when no server is running.",
        HelpName = "duration",
        CustomParser = ParseGrace,
    };

    private static readonly Option<bool> Wait = new("--wait")
    {
        Description = "Wait the grace period out and delete the plaintext before exiting; without it, plaintext sealed less than --grace ago is kept and deleted by the next run (or the server's job).",
    };

    public static Command Create()
    {
        var encrypt = new Command(
            "encrypt",
            "Encrypt an existing install in place: seal every plaintext blob (stored before encryption at rest, or while Encryption:Enabled was false) under the key of each repository that uses it, then delete the plaintext once no read can still be using it (--grace). Safe while servers run and serve (they also do this in the background, see Encryption:Migration:Enabled); takes the same job lease, and exits 1 when a server is running it. Stopped at any point, a second run resumes where the first stopped. Prints what it did on stdout, a line per blob it could not seal on stderr; exits 0 when no plaintext is left or only plaintext waiting for its grace period, 1 when some blobs could not be sealed, 2 when the settings are unusable or sealing is turned off. Progress goes to stderr.");
        encrypt.Options.Add(Grace);
        encrypt.Options.Add(Wait);
        encrypt.Options.Add(CliOptions.Json);
        encrypt.SetAction(RunAsync);
        return encrypt;
    }

    private static TimeSpan? ParseGrace(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
        if (text == "0")
        {
            return TimeSpan.Zero;
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var grace) && grace >= TimeSpan.Zero)
        {
            return grace;
        }

        result.AddError($"--grace '{text}' is not a duration; give hh:mm:ss such as 01:00:00, or 0");
        return null;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken, o => o.Encryption.Enabled ? null : "sealing is turned off (Encryption:Enabled=false); turn it on to encrypt the install") is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var store = app.Services.GetRequiredService<IMetadataStore>();
            var time = app.Services.GetRequiredService<TimeProvider>();
            var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
            await store.MigrateAsync(cancellationToken);
            var owner = $"wharf-encrypt/{Environment.MachineName}/{Environment.ProcessId}";
            var logger = app.Services.GetRequiredService<ILogger<JobScheduler>>();
            await using var lease = await JobLease.TryAcquireAsync(store.Leases, EncryptionJob.JobName, owner, time, options.Jobs.Lease, logger, cancellationToken);
            if (lease is null)
            {
                await Console.Error.WriteLineAsync($"wharf: job '{EncryptionJob.JobName}' is running on a server right now; try again in a few minutes");
                return ExitIncomplete;
            }

            var migrator = app.Services.GetRequiredService<EncryptionMigrator>();
            var grace = parse.GetValue(Grace) ?? options.Gc.GraceWindow;
            var started = time.GetUtcNow();
            var report = await CliProgress.RunAsync("wharf encrypt", progress =>
                migrator.RunOnceAsync(grace, parse.GetValue(Wait), progress, line => Console.Error.WriteLine(line), lease.Token));
            await store.Leases.RecordRunAsync(
                new JobRunRecord(EncryptionJob.JobName, owner, started, time.GetUtcNow() - started, EncryptionMigrator.Describe(report) + " (wharf encrypt)", null, null),
                lease.Token);

            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(new EncryptResult(report.PlaintextBlobs, report.CopiesSealed, report.PlaintextDeleted, report.PlaintextWaiting, report.WaitingUntil, report.Failed, report.Unencrypted));
            }
            else
            {
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"sealed {report.PlaintextBlobs - report.Failed} of {report.PlaintextBlobs} plaintext blobs ({report.CopiesSealed} sealed copies written), deleted {report.PlaintextDeleted} plaintext blobs, {report.Failed} failed"));
                if (report.PlaintextWaiting > 0)
                {
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{report.PlaintextWaiting} plaintext blobs are kept until {report.WaitingUntil:yyyy-MM-dd HH:mm:ss}Z for reads that may be using them: run 'wharf encrypt' again then (or pass --wait), or let a server's encrypt job delete them"));
                }
            }

            return report.Failed > 0 ? ExitIncomplete : 0;
        }
    }
}
