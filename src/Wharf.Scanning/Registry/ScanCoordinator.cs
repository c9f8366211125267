using System.Text.Json;
using Wharf.Core.Events;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Scanning;

namespace Wharf.Scanning.Registry;

/// <summary>What one run of the scan job did, with the faults that failed scans (for the log).</summary>
public sealed record ScanRunReport(int Requested, int Rescans, int Completed, int Failed, IReadOnlyList<(PendingScan Scan, Exception Error)> Faults)
{
    public bool Idle => Requested == 0 && Rescans == 0 && Completed == 0 && Failed == 0;
}

/// <summary>
/// The scan job's work, in three steps, each safe to repeat after a crash:
/// <list type="number">
/// <item>pushes recorded in the event log request a scan where the registry's configuration scans on push
/// (or continuously), at most once a day per image as in ECR — a push requests its scan itself, in its
/// own transaction (<see cref="ManifestWrite.Scan"/>), so this finds it requested and only catches pushes
/// committed by earlier versions or before the configuration changed;</item>
/// <item>when the vulnerability database changed since the last run, every image of a
/// <c>CONTINUOUS_SCAN</c> repository scanned with an older database (or never) is requested again;</item>
/// <item>requested scans run, each result recorded with its <c>ECR Image Scan</c> event.</item>
/// </list>
/// Scans never run on a push's request path.
/// </summary>
public sealed class ScanCoordinator(IMetadataStore store, ImageScanner scanner, TimeProvider time)
{
    /// <summary>Scan on push's consumer name in the event log.</summary>
    public const string PushConsumer = "scan-on-push";

    /// <summary>Where the continuous rescan records the database import time it last handled (as a named cursor of the event log; it holds a time, not an event position).</summary>
    public const string DatabaseConsumer = "continuous-scan-database";

    private const int Batch = 200;

    public async Task<ScanRunReport> RunAsync(CancellationToken cancellationToken)
    {
        var requested = await RequestPushedAsync(cancellationToken);
        var rescans = await RequestRescansAsync(cancellationToken);
        var faults = new List<(PendingScan, Exception)>();
        var (completed, failed) = await RunPendingAsync(faults, cancellationToken);
        return new ScanRunReport(requested, rescans, completed, failed, faults);
    }

    private async Task<int> RequestPushedAsync(CancellationToken cancellationToken)
    {
        var requested = 0;
        var configurations = new Dictionary<RegistryKey, ScanningConfiguration>();

        // Read once per pass, as the configurations are: a stream of pushes to one repository costs one read per pass,
        // not one per push. A pass takes each repository as it is when the pass first reads it.
        var repositories = new Dictionary<RepositoryKey, Repository?>();
        var position = await store.Events.GetCursorAsync(PushConsumer, cancellationToken);
        while (true)
        {
            // The log lists only what is safe to pass: a push still committing is waited for there.
            var events = await store.Events.ListAsync(position, Batch, time.GetUtcNow(), cancellationToken);
            if (events.Count == 0)
            {
                return requested;
            }

            foreach (var evt in events)
            {
                if (evt.Type != EcrEvents.ImageAction || Push(evt.Payload) is not var (key, digest))
                {
                    continue;
                }

                if (!repositories.TryGetValue(key, out var repository))
                {
                    repository = repositories[key] = await store.Repositories.GetAsync(key, cancellationToken);
                }

                if (repository is null)
                {
                    continue;
                }

                if (!configurations.TryGetValue(key.Registry, out var configuration))
                {
                    configuration = await ScanningConfiguration.LoadAsync(store.Repositories, key.Registry, cancellationToken);
                    configurations[key.Registry] = configuration;
                }

                if (configuration.For(key.Name.Value, repository.Settings.ScanOnPush).ScanFrequency is "SCAN_ON_PUSH" or "CONTINUOUS_SCAN")
                {
                    var now = time.GetUtcNow();
                    if (await store.Scans.RequestAsync(repository.Id, digest, now, now - ImageService.ScanInterval, cancellationToken) == ScanRequestResult.Requested)
                    {
                        requested++;
                    }
                }
            }

            position = events[^1].Id;
            await store.Events.AdvanceCursorAsync(PushConsumer, position, cancellationToken);
            if (events.Count < Batch)
            {
                return requested;
            }
        }
    }

    private async Task<int> RequestRescansAsync(CancellationToken cancellationToken)
    {
        var sources = await store.Vulnerabilities.ListSourcesAsync(cancellationToken);
        if (sources.Count == 0)
        {
            return 0;
        }

        var databaseAt = sources.Max(s => s.ImportedAt);
        if (await store.Events.GetCursorAsync(DatabaseConsumer, cancellationToken) >= databaseAt.ToUnixTimeMilliseconds())
        {
            return 0;
        }

        var requested = 0;
        foreach (var registry in await store.Repositories.ListConfiguredRegistriesAsync(cancellationToken))
        {
            var configuration = await ScanningConfiguration.LoadAsync(store.Repositories, registry, cancellationToken);
            if (configuration.ScanType != "ENHANCED" || configuration.Rules.All(r => r.ScanFrequency != "CONTINUOUS_SCAN"))
            {
                continue;
            }

            string? after = null;
            while (await store.Repositories.ListAsync(registry, after, Batch, cancellationToken) is { Count: > 0 } repositories)
            {
                foreach (var repository in repositories.Where(r => configuration.For(r.Key.Name.Value, r.Settings.ScanOnPush).ScanFrequency == "CONTINUOUS_SCAN"))
                {
                    Digest? last = null;
                    while (await store.Scans.ListStaleAsync(repository.Id, databaseAt, last, Batch, cancellationToken) is { Count: > 0 } stale)
                    {
                        foreach (var digest in stale)
                        {
                            // A rescan for new advisories is not a user's scan: ECR's daily limit does not apply.
                            if (await store.Scans.RequestAsync(repository.Id, digest, time.GetUtcNow(), null, cancellationToken) == ScanRequestResult.Requested)
                            {
                                requested++;
                            }
                        }

                        last = stale[^1];
                    }
                }

                after = repositories[^1].Key.Name.Value;
            }
        }

        await store.Events.AdvanceCursorAsync(DatabaseConsumer, databaseAt.ToUnixTimeMilliseconds(), cancellationToken);
        return requested;
    }

    private async Task<(int Completed, int Failed)> RunPendingAsync(List<(PendingScan, Exception)> faults, CancellationToken cancellationToken)
    {
        int completed = 0, failed = 0;
        var seen = new HashSet<(long, Digest, DateTimeOffset)>();
        while (true)
        {
            var pending = (await store.Scans.ListPendingAsync(Batch, cancellationToken)).Where(p => seen.Add((p.RepositoryId, p.Digest, p.RequestedAt))).ToList();
            if (pending.Count == 0)
            {
                return (completed, failed);
            }

            foreach (var scan in pending)
            {
                ScanOutcome? outcome;
                try
                {
                    outcome = await scanner.ScanAsync(scan.RepositoryId, scan.Key, scan.Digest, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One image that breaks the scanner must not hold up the queue: it fails, and the fault is logged.
                    faults.Add((scan, e));
                    outcome = new ScanOutcome(ScanStatuses.Failed, "The scan failed with an internal error; the server log has the details.", time.GetUtcNow(), null, null, []);
                }

                if (outcome is null)
                {
                    continue; // the image was deleted; its scan went with it
                }

                var tags = await store.Images.GetImagesAsync(scan.RepositoryId, [scan.Digest], cancellationToken) is [var image, ..] ? image.Tags : [];
                var evt = EcrEvents.Scan(scan.Key, scan.Digest, tags, outcome.Status, ScanFinding.Counts(outcome.Findings), outcome.CompletedAt);
                if (await store.Scans.CompleteAsync(scan.RepositoryId, scan.Digest, scan.RequestedAt, outcome, evt, cancellationToken))
                {
                    if (outcome.Status == ScanStatuses.Failed)
                    {
                        failed++;
                    }
                    else
                    {
                        completed++;
                    }
                }
            }
        }
    }

    /// <summary>The repository and digest of a <c>PUSH</c> image action, or null for any other event.</summary>
    private static (RepositoryKey Key, Digest Digest)? Push(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (!root.TryGetProperty("detail", out var detail) || !detail.TryGetProperty("action-type", out var action) || action.GetString() != "PUSH")
        {
            return null;
        }

        return AccountId.TryParse(root.GetProperty("account").GetString(), out var account)
            && RepositoryName.TryParse(detail.GetProperty("repository-name").GetString(), out var name)
            && Digest.TryParse(detail.GetProperty("image-digest").GetString(), out var digest)
                ? (new RepositoryKey(new RegistryKey(account, root.GetProperty("region").GetString()!), name), digest)
                : null;
    }
}
