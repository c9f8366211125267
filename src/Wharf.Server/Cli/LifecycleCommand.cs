using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Cli;

/// <summary><c>wharf lifecycle run</c>: apply lifecycle policies now, or show what they would do.</summary>
internal static class LifecycleCommand
{
    public static Command Create()
    {
        var repository = new Option<string?>("--repository") { Description = "only this repository (name, in the default registry unless --account/--region say otherwise)" };
        var account = new Option<string?>("--account") { Description = "12-digit account id of the repository (default: Registry:DefaultAccount)" };
        var region = new Option<string?>("--region") { Description = "region of the repository (default: Registry:DefaultRegion)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print what would be expired or archived, and change nothing" };
        var run = new Command(
            "run",
            "Apply every repository's lifecycle policy now (the job does it every Lifecycle:Interval) and print, per repository, each image expired or archived and the rule that decided. Safe beside a running server: it takes the job's lease, and exits 1 when a server is running the job. Progress goes to stderr (a bar at a terminal, plain lines otherwise).")
        {
            repository, account, region, dryRun, CliOptions.Json,
        };
        run.SetAction((parse, ct) => RunAsync(parse, parse.GetValue(repository), parse.GetValue(account), parse.GetValue(region), parse.GetValue(dryRun), ct));
        var lifecycle = new Command("lifecycle", "Lifecycle policies (ECR's PutLifecyclePolicy rules) run on demand.");
        lifecycle.Subcommands.Add(run);
        return lifecycle;
    }

    private static async Task<int> RunAsync(ParseResult parse, string? name, string? accountText, string? region, bool dryRun, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
            RepositoryKey? only = null;
            if (name is not null)
            {
                if (!AccountId.TryParse(accountText ?? options.Registry.DefaultAccount, out var account) || !RepositoryName.TryParse(name, out var repositoryName))
                {
                    WharfCli.Fail($"'{accountText}' is not a 12-digit account id, or '{name}' is not a repository name");
                    return WharfCli.ExitInvalid;
                }

                only = new RepositoryKey(new RegistryKey(account, region ?? options.Registry.DefaultRegion), repositoryName);
            }

            var store = app.Services.GetRequiredService<IMetadataStore>();
            var time = app.Services.GetRequiredService<TimeProvider>();
            await store.MigrateAsync(cancellationToken);
            var owner = $"wharf-lifecycle/{Environment.MachineName}/{Environment.ProcessId}";
            await using var lease = dryRun ? null
                : await JobLease.TryAcquireAsync(store.Leases, LifecycleJob.JobName, owner, time, options.Jobs.Lease, app.Services.GetRequiredService<ILogger<JobScheduler>>(), cancellationToken);
            if (!dryRun && lease is null)
            {
                await Console.Error.WriteLineAsync($"wharf: job '{LifecycleJob.JobName}' is running on a server right now; try again in a few minutes");
                return 1;
            }

            var service = app.Services.GetRequiredService<LifecycleService>();
            var started = time.GetUtcNow();
            // The actions, to list below (the run itself holds only a page of images at a time).
            var actions = new Dictionary<RepositoryKey, List<LifecycleDecision>>();
            var reports = await CliProgress.RunAsync("wharf lifecycle run", progress => service.RunAsync(
                only,
                dryRun,
                progress,
                (key, decision) => (actions.TryGetValue(key, out var list) ? list : actions[key] = []).Add(decision),
                lease?.Token ?? cancellationToken));
            IEnumerable<LifecycleDecision> Actions(LifecycleRunReport report) => actions.GetValueOrDefault(report.Repository) ?? [];
            if (lease is not null)
            {
                // `wharf status` shows this run as the job's last (no next time: the servers' schedules say that).
                await store.Leases.RecordRunAsync(
                    new JobRunRecord(
                        LifecycleJob.JobName, owner, started, time.GetUtcNow() - started,
                        string.Create(CultureInfo.InvariantCulture, $"{reports.Count} repositories evaluated: {reports.Sum(r => r.Expired)} images expired, {reports.Sum(r => r.Transitioned)} archived, {reports.Sum(r => r.Skipped)} skipped (wharf lifecycle run{(only is null ? "" : $" --repository {only.Name}")})"),
                        null,
                        null),
                    lease.Token);
            }

            if (only is not null && reports.Count == 0)
            {
                WharfCli.Fail($"repository '{only.Name}' has no lifecycle policy (or does not exist)");
                return 1;
            }

            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(new LifecycleResult(dryRun, [.. reports.Select(r => new LifecycleRepositoryResult(
                    r.Repository.Name.ToString(),
                    r.Repository.Registry.Account.ToString(),
                    r.Repository.Registry.Region,
                    r.Expired,
                    r.Transitioned,
                    r.Skipped,
                    [.. Actions(r).Select(d => new LifecycleAction(
                        d.Outcome == LifecycleOutcome.Expire ? "expire" : "archive", d.Image.Digest.ToString(), d.Image.Tags, d.Image.PushedAt, d.RulePriority))]))]));
                return 0;
            }

            foreach (var report in reports)
            {
                Console.WriteLine($"{report.Repository.Name} ({report.Repository.Registry.Account}, {report.Repository.Registry.Region})");
                foreach (var decision in Actions(report))
                {
                    var verb = decision.Outcome == LifecycleOutcome.Expire ? "expire " : "archive";
                    var tags = decision.Image.Tags.Count > 0 ? string.Join(',', decision.Image.Tags) : "<untagged>";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {verb} {decision.Image.Digest} {tags} (rule {decision.RulePriority})"));
                }

                Console.WriteLine(dryRun
                    ? "  dry run: nothing changed"
                    : string.Create(CultureInfo.InvariantCulture, $"  {report.Expired} expired, {report.Transitioned} archived, {report.Skipped} skipped (changed since planned)"));
            }

            return 0;
        }
    }

    /// <summary><c>wharf lifecycle run --json</c>: per repository with a policy, what was (or, with --dry-run, would be) done.</summary>
    internal sealed record LifecycleResult(bool DryRun, IReadOnlyList<LifecycleRepositoryResult> Repositories);

    /// <summary>One repository's run: counts are zero in a dry run, <c>actions</c> lists the plan either way.</summary>
    internal sealed record LifecycleRepositoryResult(string Name, string Account, string Region, int Expired, int Archived, int Skipped, IReadOnlyList<LifecycleAction> Actions);

    /// <summary>One image the plan acts on: <c>expire</c> or <c>archive</c>, and the rule that decided.</summary>
    internal sealed record LifecycleAction(string Action, string Digest, IReadOnlyList<string> Tags, DateTimeOffset PushedAt, int? RulePriority);
}
