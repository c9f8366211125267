using System.Diagnostics;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Webhooks;
using Wharf.Server.Hosting;

namespace Wharf.Server.Webhooks;

/// <summary>What one delivery run did.</summary>
internal sealed record WebhookRunReport(int Armed, int Delivered, int Retrying, int DeadLettered)
{
    public bool Idle => Armed + Delivered + Retrying + DeadLettered == 0;
}

/// <summary>
/// Sends the due deliveries: the first pending one of each subscription's repository queue, up to
/// <c>Webhooks:Concurrency</c> at once. A send that ends frees its slot for the next due row at once, and the
/// feed keeps arming new events every <c>Webhooks:Interval</c> meanwhile, so a slow receiver holds up its own
/// queue only. A 2xx removes the row; anything else schedules the next attempt with exponential backoff and
/// jitter, until <c>Webhooks:RetryFor</c> has passed since the first attempt, when the row becomes a dead letter
/// with its last status and error. A run cancelled mid-send (lease lost, shutdown, crash) leaves the row as it
/// was, so it is sent again: at least once, with the event id for the receiver to drop a duplicate.
/// </summary>
internal sealed partial class WebhookDeliverer(
    IMetadataStore store, WebhookFeed feed, WebhookSubscriptions subscriptions, WebhookSender sender, TimeProvider time, IOptions<WharfOptions> options, ILogger<WebhookDeliverer> logger)
{
    // A run that keeps finding work stops starting sends after this and ends when its sends do; the next run
    // follows at once. Subscriptions changed meanwhile are read again then.
    private static readonly TimeSpan MaxRun = TimeSpan.FromSeconds(30);

    /// <summary>Arms new events and delivers due rows until nothing is due or in flight (or <see cref="MaxRun"/> has passed).</summary>
    public async Task<WebhookRunReport> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Webhooks;
        var started = Stopwatch.GetTimestamp();
        var armed = await feed.RunAsync(cancellationToken);
        var lastFeed = Stopwatch.GetTimestamp();
        var byName = (await store.Webhooks.ListSubscriptionsAsync(cancellationToken)).ToDictionary(s => s.Name, StringComparer.Ordinal);
        var secrets = byName.Values.ToDictionary(s => s.Name, subscriptions.OpenSecret, StringComparer.Ordinal);
        var inFlight = new Dictionary<long, Task<bool?>>();
        int delivered = 0, retrying = 0, dead = 0;
        try
        {
            while (true)
            {
                var starting = Stopwatch.GetElapsedTime(started) < MaxRun;
                if (starting && Stopwatch.GetElapsedTime(lastFeed) >= settings.Interval)
                {
                    armed += await feed.RunAsync(cancellationToken);
                    lastFeed = Stopwatch.GetTimestamp();
                }

                if (starting && inFlight.Count < settings.Concurrency)
                {
                    // Each row heads its own queue; one already in flight is still its queue's head, and waits.
                    var due = await store.Webhooks.ListDueAsync(time.GetUtcNow(), settings.Concurrency * 8, cancellationToken);
                    foreach (var row in due.Where(r => !inFlight.ContainsKey(r.Id) && byName.ContainsKey(r.Subscription)).Take(settings.Concurrency - inFlight.Count))
                    {
                        inFlight[row.Id] = DeliverAsync(row, byName[row.Subscription], secrets[row.Subscription], settings, cancellationToken);
                    }
                }

                if (inFlight.Count == 0)
                {
                    break;
                }

                // A send ending, or the next feed, whichever comes first.
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    await Task.WhenAny(Task.WhenAny(inFlight.Values), Task.Delay(settings.Interval, time, wait.Token));
                    await wait.CancelAsync();
                }

                foreach (var (id, task) in inFlight.Where(f => f.Value.IsCompleted).ToList())
                {
                    inFlight.Remove(id);
                    switch (await task)
                    {
                        case true:
                            delivered++;
                            break;
                        case false:
                            retrying++;
                            break;
                        default:
                            dead++;
                            break;
                    }
                }
            }
        }
        finally
        {
            // Cancelled (lease lost, shutdown): the sends stop with the token; their rows stay pending.
            if (inFlight.Count > 0)
            {
                await Task.WhenAll(inFlight.Values).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return new WebhookRunReport(armed, delivered, retrying, dead);
    }

    /// <summary>The next attempt's delay after <paramref name="attempts"/> failures: doubling from the base, capped, then jittered down by up to half.</summary>
    public static TimeSpan Backoff(int attempts, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        var doubled = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var capped = Math.Min(doubled, maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (random / 2)));
    }

    // True delivered, false to retry, null dead-lettered.
    private async Task<bool?> DeliverAsync(WebhookDelivery row, WebhookSubscription subscription, byte[]? secret, WebhookOptions settings, CancellationToken cancellationToken)
    {
        var attempt = secret is null
            ? new WebhookAttempt(false, null, "the subscription's secret does not open with this node's master key; give every node the same Identity:MasterKeyFile")
            : await sender.SendAsync(subscription.Url, secret, row.EventId, row.Payload, cancellationToken);
        if (attempt.Delivered)
        {
            await store.Webhooks.CompleteAsync(row.Id, cancellationToken);
            return true;
        }

        var now = time.GetUtcNow();
        var attempts = row.Attempts + 1;
        var first = row.FirstAttemptAt ?? now;
        var deadline = first + settings.RetryFor;
        DateTimeOffset? next = now >= deadline
            ? null
            : Min(now + Backoff(attempts, settings.RetryBaseDelay, settings.MaxRetryDelay, Random.Shared.NextDouble()), deadline);
        await store.Webhooks.RecordFailureAsync(row.Id, new WebhookFailure(attempts, first, attempt.Status, attempt.Error, next, now), cancellationToken);
        if (next is null)
        {
            LogDeadLettered(logger, subscription.Name, row.EventId, attempts, attempt.Error);
            return null;
        }

        LogAttemptFailed(logger, subscription.Name, row.EventId, attempts, attempt.Error, next.Value);
        return false;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    [LoggerMessage(EventId = WharfEventId.WebhookAttemptFailed, Level = LogLevel.Information, Message = "Webhook {Subscription}: delivering event {EventId} failed (attempt {Attempts}): {Error}; next attempt at {Next:O}")]
    private static partial void LogAttemptFailed(ILogger logger, string subscription, string eventId, int attempts, string error, DateTimeOffset next);

    [LoggerMessage(EventId = WharfEventId.WebhookDeadLettered, Level = LogLevel.Warning, Message = "Webhook {Subscription}: event {EventId} moved to the dead-letter list after {Attempts} attempts: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, string subscription, string eventId, int attempts, string error);
}
