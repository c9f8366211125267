namespace Wharf.Core.Webhooks;

/// <summary>
/// Webhook subscriptions, their delivery state and the dead-letter list (docs/operations.md "Webhooks"):
/// events of the event log that match a subscription's pattern are POSTed to its URL, in order per
/// repository, at least once, by one node at a time.
/// </summary>
public interface IWebhookStore
{
    /// <summary>Creates or replaces the subscription named <see cref="WebhookSubscription.Name"/>; true when it was new.</summary>
    Task<bool> PutSubscriptionAsync(WebhookSubscription subscription, CancellationToken cancellationToken);

    /// <summary>Every subscription, by name.</summary>
    Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken);

    /// <summary>Deletes the subscription with its pending deliveries and dead letters; false when there was none.</summary>
    Task<bool> DeleteSubscriptionAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Records <paramref name="deliveries"/> (one per subscription and event: an event armed again is ignored)
    /// and moves the consumer's cursor to <paramref name="position"/>, in one transaction: a crash loses
    /// neither an event nor a delivery.
    /// </summary>
    Task ArmAsync(IReadOnlyList<WebhookArm> deliveries, string consumer, long position, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> deliveries due at <paramref name="now"/>, oldest first, each the first pending
    /// one of its subscription and order key (so a later one waits for it), of enabled subscriptions only.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Removes a delivered row; false when it was already gone.</summary>
    Task<bool> CompleteAsync(long id, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt: the row waits for its next attempt, or becomes a dead letter.</summary>
    Task RecordFailureAsync(long id, WebhookFailure failure, CancellationToken cancellationToken);

    /// <summary>Pending deliveries (dead letters excluded), oldest first, optionally of one subscription.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListPendingAsync(string? subscription, int limit, CancellationToken cancellationToken);

    /// <summary>Dead letters, oldest first, optionally of one subscription.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListDeadLettersAsync(string? subscription, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Moves dead letters back to pending, due at <paramref name="now"/> with their attempts reset — those of
    /// <paramref name="subscription"/>, or the one of <paramref name="eventId"/>, or all; returns how many.
    /// </summary>
    Task<int> RedriveAsync(string? subscription, string? eventId, DateTimeOffset now, CancellationToken cancellationToken);
}
