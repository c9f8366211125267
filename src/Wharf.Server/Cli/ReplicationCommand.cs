using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Hosting;

namespace Wharf.Server.Cli;

/// <summary><c>wharf replication backfill</c>: replicate the images that already exist (ECR copies only later pushes).</summary>
internal static class ReplicationCommand
{
    /// <summary><c>wharf replication backfill --json</c>: how many image-destination pairs were (or would be) armed.</summary>
    internal sealed record BackfillResult(string Account, string Region, bool DryRun, int Replications);

    public static Command Create()
    {
        var account = new Option<string?>("--account") { Description = "12-digit account id of the source registry (default: Registry:DefaultAccount)" };
        var region = new Option<string?>("--region") { Description = "region of the source registry (default: Registry:DefaultRegion)" };
        var prefix = new Option<string?>("--repository-prefix") { Description = "only repositories whose names start with this" };
        var rate = new Option<double?>("--rate") { Description = "at most this many images (per destination) armed per second (default: no limit)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "list what would be replicated, and change nothing" };
        var fromStart = new Option<bool>("--from-start") { Description = "start from the first repository even when an earlier run stopped part way" };
        var backfill = new Command(
            "backfill",
            "Arm the replication of every existing image of the source registry's repositories that its replication configuration matches, "
            + "one line per image and destination. The servers' workers copy them as they copy pushes. Resumable: an interrupted run leaves its place "
            + "in the registry's settings and the next run goes on from there; arming twice copies nothing twice.")
        {
            account, region, prefix, rate, dryRun, fromStart, CliOptions.Json,
        };
        backfill.SetAction((parse, ct) => BackfillAsync(
            parse, parse.GetValue(account), parse.GetValue(region), parse.GetValue(prefix), parse.GetValue(rate), parse.GetValue(dryRun), parse.GetValue(fromStart), ct));
        var replication = new Command("replication", "Replication (docs/replication.md) on demand.");
        replication.Subcommands.Add(backfill);
        return replication;
    }

    private static async Task<int> BackfillAsync(
        ParseResult parse, string? accountText, string? region, string? prefix, double? rate, bool dryRun, bool fromStart, CancellationToken cancellationToken)
    {
        if (rate is <= 0 or double.NaN or double.PositiveInfinity)
        {
            WharfCli.Fail($"--rate is {rate}; give a positive number of images per second, such as 10");
            return WharfCli.ExitInvalid;
        }

        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
            if (!AccountId.TryParse(accountText ?? options.Registry.DefaultAccount, out var account))
            {
                WharfCli.Fail($"'{accountText}' is not a 12-digit account id");
                return WharfCli.ExitInvalid;
            }

            var store = app.Services.GetRequiredService<IMetadataStore>();
            await store.MigrateAsync(cancellationToken);
            var registry = new RegistryKey(account, region ?? options.Registry.DefaultRegion);
            if ((await ReplicationConfiguration.LoadAsync(store.Repositories, registry, cancellationToken)).Rules.Count == 0)
            {
                WharfCli.Fail($"the registry {registry} has no replication configuration (put one with PutReplicationConfiguration first); nothing to backfill");
                return 1;
            }

            var service = app.Services.GetRequiredService<ReplicationService>();
            var json = parse.GetValue(CliOptions.Json);

            // With --json the per-image lines are progress (stderr) and the document the result.
            var lines = json ? Console.Error : Console.Out;
            var count = 0;
            await foreach (var request in service.BackfillAsync(new BackfillScope(registry, prefix, rate, dryRun, fromStart), cancellationToken))
            {
                var tags = request.Tags.Count > 0 ? string.Join(',', request.Tags) : "<untagged>";
                await lines.WriteLineAsync($"{(dryRun ? "would replicate" : "armed")} {request.Repository}@{request.Digest} {tags} -> {request.Destination.Region}/{request.Destination.RegistryId}");
                count++;
            }

            if (json)
            {
                CliJson.Write(new BackfillResult(registry.Account.ToString(), registry.Region, dryRun, count));
                return 0;
            }

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{count} replications {(dryRun ? "would be armed (dry run: nothing changed)" : "armed; the servers copy them")} from {registry}"));
            return 0;
        }
    }
}
