using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Cli;

/// <summary><c>wharf gc</c>: upload expiry and garbage collection once, under the jobs' leases.</summary>
internal static class GcCommand
{
    private const string ExpiryPhase = "expiring upload sessions";

    /// <summary><c>wharf gc --json</c>.</summary>
    internal sealed record GcResult(int ExpiredUploads, int BlobsDeleted, long BytesFreed, int StagingAreasRemoved);

    public static Command Create()
    {
        var gc = new Command(
            "gc",
            "Run upload expiry and garbage collection once, now, and print what was removed: expired upload sessions, blobs unreferenced for longer than Gc:GraceWindow (default 1 h), staging areas no upload owns. Safe to run while the server runs (it takes the same job leases); exits 1 when another node is running them. Progress goes to stderr (bars at a terminal, plain lines otherwise).");
        gc.Options.Add(CliOptions.Json);
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

            var janitor = app.Services.GetRequiredService<UploadJanitor>();
            var collector = app.Services.GetRequiredService<GarbageCollector>();
            var result = await CliProgress.RunAsync("wharf gc", async progress =>
            {
                progress.Report(new WorkProgress(ExpiryPhase, 0));
                var expiryStarted = time.GetUtcNow();
                var expired = await janitor.RunOnceAsync(gcLease.Token);
                progress.Report(new WorkProgress(ExpiryPhase, expired));

                // Orphaned staging areas go when two runs in a row see them; run twice.
                var gcStarted = time.GetUtcNow();
                var first = await collector.RunOnceAsync(progress, gcLease.Token);
                var second = await collector.RunOnceAsync(new SecondPass(progress), gcLease.Token);
                var result = new GcResult(expired, first.BlobsDeleted + second.BlobsDeleted, first.BytesFreed + second.BytesFreed, first.StagingAreasRemoved + second.StagingAreasRemoved);

                // `wharf status` shows these runs as the jobs' last (no next time: the servers' schedules say that).
                await store.Leases.RecordRunAsync(
                    new JobRunRecord(UploadExpiryJob.JobName, owner, expiryStarted, gcStarted - expiryStarted, $"{expired} expired upload sessions removed (wharf gc)", null, null),
                    gcLease.Token);
                await store.Leases.RecordRunAsync(
                    new JobRunRecord(GarbageCollectionJob.JobName, owner, gcStarted, time.GetUtcNow() - gcStarted, string.Create(CultureInfo.InvariantCulture, $"{result.BlobsDeleted} blobs ({result.BytesFreed} bytes) and {result.StagingAreasRemoved} orphaned staging areas removed (wharf gc)"), null, null),
                    gcLease.Token);
                return result;
            });
            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(result);
            }
            else
            {
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"removed {result.ExpiredUploads} expired uploads, {result.BlobsDeleted} blobs ({result.BytesFreed} bytes), {result.StagingAreasRemoved} orphaned staging areas"));
            }

            return 0;
        }
    }

    /// <summary>The second run's phases, told apart from the first's.</summary>
    private sealed class SecondPass(IProgress<WorkProgress> inner) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => inner.Report(value with { Phase = value.Phase + " (second pass)" });
    }
}
