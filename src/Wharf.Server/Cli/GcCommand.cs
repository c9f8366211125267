using System.CommandLine;
using System.Globalization;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Metadata;
using Wharf.Core.Uploads;
using Wharf.Server.Jobs;

namespace Wharf.Server.Cli;

/// <summary><c>wharf gc</c>: upload expiry and garbage collection once, under the jobs' leases.</summary>
internal static class GcCommand
{
    private static readonly TimeSpan Lease = TimeSpan.FromHours(1);

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
            string[] held = [];
            try
            {
                foreach (var job in new[] { UploadExpiryJob.JobName, GarbageCollectionJob.JobName })
                {
                    if (!await store.Leases.TryAcquireAsync(job, owner, time.GetUtcNow(), Lease, cancellationToken))
                    {
                        await Console.Error.WriteLineAsync($"wharf: job '{job}' is running on a server right now; try again in a few minutes");
                        return 1;
                    }

                    held = [.. held, job];
                }

                var expired = await app.Services.GetRequiredService<UploadJanitor>().RunOnceAsync(cancellationToken);
                var collector = app.Services.GetRequiredService<GarbageCollector>();

                // Orphaned staging areas go when two runs in a row see them; run twice.
                var first = await collector.RunOnceAsync(cancellationToken);
                var second = await collector.RunOnceAsync(cancellationToken);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"removed {expired} expired uploads, {first.BlobsDeleted + second.BlobsDeleted} blobs ({first.BytesFreed + second.BytesFreed} bytes), {first.StagingAreasRemoved + second.StagingAreasRemoved} orphaned staging areas"));
                return 0;
            }
            finally
            {
                foreach (var job in held)
                {
                    await store.Leases.ReleaseAsync(job, owner, CancellationToken.None);
                }
            }
        }
    }
}
