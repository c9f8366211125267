using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Metadata;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Cli;

/// <summary><c>wharf gc</c>: upload expiry and garbage collection once, under the jobs' leases.</summary>
internal static class GcCommand
{
    public static Command Create()
    {
        var gc = new Command(
            "gc",
            "Run upload expiry and garbage collection once, now, and print what was removed: expired upload sessions, blobs unreferenced for longer than Gc:GraceWindow (default 1 h), staging areas no upload owns. Safe to run while the server runs (it takes the same job leases); exits 1 when another node is running them.");
        gc.SetAction(RunAsync);
        return gc;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var store = app.Services.GetRequiredService<IMetadataStore>();
            var time = app.Services.GetRequiredService<TimeProvider>();
            await store.MigrateAsync(cancellationToken);
            var owner = $"wharf-gc/{Environment.MachineName}/{Environment.ProcessId}";
            var lease = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value.Jobs.Lease;
            var logger = app.Services.GetRequiredService<ILogger<JobScheduler>>();

            // Both leases renewed while the run lasts; losing either cancels it (the second's token is linked to the first's).
            await using var expiryLease = await JobLease.TryAcquireAsync(store.Leases, UploadExpiryJob.JobName, owner, time, lease, logger, cancellationToken);
            await using var gcLease = expiryLease is null ? null
                : await JobLease.TryAcquireAsync(store.Leases, GarbageCollectionJob.JobName, owner, time, lease, logger, expiryLease.Token);
            if (gcLease is null)
            {
                await Console.Error.WriteLineAsync($"wharf: job '{(expiryLease is null ? UploadExpiryJob.JobName : GarbageCollectionJob.JobName)}' is running on a server right now; try again in a few minutes");
                return 1;
            }

            var expired = await app.Services.GetRequiredService<UploadJanitor>().RunOnceAsync(gcLease.Token);
            var collector = app.Services.GetRequiredService<GarbageCollector>();

            // Orphaned staging areas go when two runs in a row see them; run twice.
            var first = await collector.RunOnceAsync(gcLease.Token);
            var second = await collector.RunOnceAsync(gcLease.Token);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"removed {expired} expired uploads, {first.BlobsDeleted + second.BlobsDeleted} blobs ({first.BytesFreed + second.BytesFreed} bytes), {first.StagingAreasRemoved + second.StagingAreasRemoved} orphaned staging areas"));
            return 0;
        }
    }
}
