using System.Data.Common;
using Wharf.Core.Webhooks;

namespace Wharf.Metadata.Relational;

/// <summary>Webhook subscriptions, deliveries and dead letters over <c>webhook_subscriptions</c> and <c>webhook_deliveries</c> (migration 0020).</summary>
internal sealed class WebhookStore(Database database) : IWebhookStore
{
    private const string SubscriptionColumns = "name, url, secret, pattern, enabled, origin, changed_at";

    private const string DeliveryColumns =
        "d.id, d.subscription, d.event_id, d.order_key, d.payload, d.attempts, d.first_attempt_at, d.next_attempt_at, d.last_status, d.last_error, d.dead_at";

    public Task<bool> PutSubscriptionAsync(WebhookSubscription subscription, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var existed = await s.ExistsAsync("SELECT 1 FROM webhook_subscriptions WHERE name = @name", [("name", subscription.Name)], cancellationToken);
                await s.ExecuteAsync(
                    """
                    INSERT INTO webhook_subscriptions (name, url, secret, pattern, enabled, origin, changed_at)
                    VALUES (@name, @url, @secret, @pattern, @enabled, @origin, @changed)
                    ON CONFLICT (name) DO UPDATE SET url = excluded.url, secret = excluded.secret, pattern = excluded.pattern,
                        enabled = excluded.enabled, origin = excluded.origin, changed_at = excluded.changed_at
                    """,
                    [
                        ("name", subscription.Name), ("url", subscription.Url.AbsoluteUri), ("secret", subscription.SealedSecret),
                        ("pattern", subscription.Pattern), ("enabled", subscription.Enabled), ("origin", Origin(subscription.Origin)),
                        ("changed", Columns.Ms(subscription.ChangedAt)),
                    ],
                    cancellationToken);
                return !existed;
            },
            cancellationToken);

    public Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<WebhookSubscription>>(
            async s => await s.ListAsync($"SELECT {SubscriptionColumns} FROM webhook_subscriptions ORDER BY name", MapSubscription, [], cancellationToken),
            cancellationToken);

    public Task<bool> DeleteSubscriptionAsync(string name, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                await s.ExecuteAsync("DELETE FROM webhook_deliveries WHERE subscription = @name", [("name", name)], cancellationToken);
                return await s.ExecuteAsync("DELETE FROM webhook_subscriptions WHERE name = @name", [("name", name)], cancellationToken) > 0;
            },
            cancellationToken);

    public Task ArmAsync(IReadOnlyList<WebhookArm> deliveries, string consumer, long position, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                foreach (var d in deliveries)
                {
                    // A subscription removed since the feed listed them gets nothing.
                    await s.ExecuteAsync(
                        """
                        INSERT INTO webhook_deliveries (subscription, event_id, order_key, payload, attempts, next_attempt_at)
                        SELECT @subscription, @event, @key, @payload, 0, @due
                        WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE name = @subscription)
                        ON CONFLICT (subscription, event_id) DO NOTHING
                        """,
                        [("subscription", d.Subscription), ("event", d.EventId), ("key", d.OrderKey), ("payload", d.Payload), ("due", Columns.Ms(d.Due))],
                        cancellationToken);
                }

                await s.ExecuteAsync(
                    """
                    INSERT INTO event_cursors (consumer, position) VALUES (@consumer, @position)
                    ON CONFLICT (consumer) DO UPDATE SET position = excluded.position WHERE event_cursors.position < excluded.position
                    """,
                    [("consumer", consumer), ("position", position)],
                    cancellationToken);
            },
            cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<WebhookDelivery>>(
            async s => await s.ListAsync(
                $"""
                SELECT {DeliveryColumns} FROM webhook_deliveries d
                JOIN webhook_subscriptions w ON w.name = d.subscription
                WHERE d.dead_at IS NULL AND d.next_attempt_at <= @now AND w.enabled = @enabled
                  AND NOT EXISTS (
                      SELECT 1 FROM webhook_deliveries e
                      WHERE e.subscription = d.subscription AND e.order_key = d.order_key AND e.dead_at IS NULL AND e.id < d.id)
                ORDER BY d.id LIMIT @limit
                """,
                MapDelivery,
                [("now", Columns.Ms(now)), ("enabled", true), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> CompleteAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM webhook_deliveries WHERE id = @id AND dead_at IS NULL", [("id", id)], cancellationToken) > 0,
            cancellationToken);

    public Task RecordFailureAsync(long id, WebhookFailure failure, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                """
                UPDATE webhook_deliveries SET attempts = @attempts, first_attempt_at = @first, last_status = @status, last_error = @error,
                    next_attempt_at = coalesce(@next, next_attempt_at), dead_at = @dead
                WHERE id = @id AND dead_at IS NULL
                """,
                [
                    ("id", id), ("attempts", failure.Attempts), ("first", Columns.Ms(failure.FirstAttemptAt)), ("status", failure.Status),
                    ("error", failure.Error), ("next", failure.NextAttemptAt is { } next ? Columns.Ms(next) : null),
                    ("dead", failure.NextAttemptAt is null ? Columns.Ms(failure.At) : null),
                ],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ListPendingAsync(string? subscription, int limit, CancellationToken cancellationToken) =>
        ListAsync("d.dead_at IS NULL", subscription, limit, cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ListDeadLettersAsync(string? subscription, int limit, CancellationToken cancellationToken) =>
        ListAsync("d.dead_at IS NOT NULL", subscription, limit, cancellationToken);

    public Task<int> RedriveAsync(string? subscription, string? eventId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                """
                UPDATE webhook_deliveries SET dead_at = NULL, attempts = 0, first_attempt_at = NULL, next_attempt_at = @now
                WHERE dead_at IS NOT NULL
                  AND (CAST(@subscription AS TEXT) IS NULL OR subscription = @subscription)
                  AND (CAST(@event AS TEXT) IS NULL OR event_id = @event)
                """,
                [("now", Columns.Ms(now)), ("subscription", subscription), ("event", eventId)],
                cancellationToken),
            cancellationToken);

    private Task<IReadOnlyList<WebhookDelivery>> ListAsync(string state, string? subscription, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<WebhookDelivery>>(
            async s => await s.ListAsync(
                $"""
                SELECT {DeliveryColumns} FROM webhook_deliveries d
                WHERE {state} AND (CAST(@subscription AS TEXT) IS NULL OR d.subscription = @subscription)
                ORDER BY d.id LIMIT @limit
                """,
                MapDelivery,
                [("subscription", subscription), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    private static string Origin(WebhookOrigin origin) => origin == WebhookOrigin.Settings ? "settings" : "admin";

    private static WebhookSubscription MapSubscription(DbDataReader r) => new(
        r.GetString(0),
        new Uri(r.GetString(1), UriKind.Absolute),
        r.Bytes(2),
        r.GetString(3),
        r.GetBoolean(4),
        r.GetString(5) == "settings" ? WebhookOrigin.Settings : WebhookOrigin.Admin,
        r.Time(6));

    private static WebhookDelivery MapDelivery(DbDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetInt32(5),
        r.NullableTime(6),
        r.Time(7),
        r.IsDBNull(8) ? null : r.GetInt32(8),
        r.NullableString(9),
        r.NullableTime(10));
}
