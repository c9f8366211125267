namespace Wharf.Core.Webhooks;

/// <summary>Where a subscription was defined: settings are synchronised into the store at start; the admin command writes it directly.</summary>
public enum WebhookOrigin
{
    Settings,
    Admin,
}

/// <summary>A webhook subscription: events matching <see cref="Pattern"/> are POSTed to <see cref="Url"/>, signed with the secret.</summary>
/// <param name="Name">Unique; letters, digits, <c>.</c>, <c>_</c> and <c>-</c>.</param>
/// <param name="Url">An absolute http or https URL.</param>
/// <param name="SealedSecret">The signing secret sealed with the master key (never stored or shown in clear).</param>
/// <param name="Pattern">The EventBridge event pattern as JSON (<see cref="EventPattern"/>).</param>
/// <param name="Enabled">A disabled subscription gets no new deliveries and its pending ones wait.</param>
/// <param name="Origin">Settings, or the admin command.</param>
/// <param name="ChangedAt">When it was last written.</param>
public sealed record WebhookSubscription(string Name, Uri Url, byte[] SealedSecret, string Pattern, bool Enabled, WebhookOrigin Origin, DateTimeOffset ChangedAt);

/// <summary>An event to deliver to a subscription, as the feed arms it.</summary>
/// <param name="Subscription">The subscription's name.</param>
/// <param name="EventId">The envelope's <c>id</c>: the receiver's deduplication key.</param>
/// <param name="OrderKey">Deliveries with the same subscription and key go out in order (the repository: account/region/name).</param>
/// <param name="Payload">The event's JSON, exactly as the event log holds it.</param>
/// <param name="Due">When it may first be sent.</param>
public sealed record WebhookArm(string Subscription, string EventId, string OrderKey, string Payload, DateTimeOffset Due);

/// <summary>A pending delivery, or (with <see cref="DeadAt"/>) a dead letter.</summary>
public sealed record WebhookDelivery(
    long Id,
    string Subscription,
    string EventId,
    string OrderKey,
    string Payload,
    int Attempts,
    DateTimeOffset? FirstAttemptAt,
    DateTimeOffset NextAttemptAt,
    int? LastStatus,
    string? LastError,
    DateTimeOffset? DeadAt);

/// <summary>A failed attempt: retried at <see cref="NextAttemptAt"/>, or dead-lettered when that is null.</summary>
public sealed record WebhookFailure(int Attempts, DateTimeOffset FirstAttemptAt, int? Status, string Error, DateTimeOffset? NextAttemptAt, DateTimeOffset At);
