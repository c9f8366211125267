using System.Globalization;
using System.Text.Json;
using Wharf.Core.Metadata;

namespace Wharf.Core.Webhooks;

/// <summary>
/// Webhooks' consumer of the event log (its own cursor, <see cref="Consumer"/>): each event that matches an
/// enabled subscription's pattern becomes one delivery row for it, armed with the cursor's move in one
/// transaction (<see cref="IWebhookStore.ArmAsync"/>), so a crash at any point loses no event and arms none
/// twice. Subscriptions apply as they are when an event is read: one created later does not get older events.
/// </summary>
public sealed class WebhookFeed(IMetadataStore store, TimeProvider time)
{
    /// <summary>The consumer's name in the event log.</summary>
    public const string Consumer = "webhooks";

    private const int Batch = 500;

    /// <summary>Reads the events after the cursor and arms their deliveries; returns how many were armed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var armed = 0;
        var position = await store.Events.GetCursorAsync(Consumer, cancellationToken);
        var subscriptions = (await store.Webhooks.ListSubscriptionsAsync(cancellationToken))
            .Where(s => s.Enabled)
            .Select(s => (s.Name, Pattern: TryParse(s.Pattern)))
            .Where(s => s.Pattern is not null)
            .ToList();
        while (true)
        {
            var now = time.GetUtcNow();
            var events = await store.Events.ListAsync(position, Batch, now, cancellationToken);
            if (events.Count == 0)
            {
                return armed;
            }

            var deliveries = new List<WebhookArm>();
            foreach (var evt in events)
            {
                if (subscriptions.Count == 0)
                {
                    break;
                }

                using var document = TryParseEvent(evt.Payload);
                if (document is null)
                {
                    continue;
                }

                var root = document.RootElement;
                foreach (var (name, pattern) in subscriptions)
                {
                    if (pattern!.Matches(root))
                    {
                        deliveries.Add(new WebhookArm(name, EventId(root, evt.Id), OrderKey(root), evt.Payload, now));
                    }
                }
            }

            position = events[^1].Id;
            await store.Webhooks.ArmAsync(deliveries, Consumer, position, cancellationToken);
            armed += deliveries.Count;
            if (events.Count < Batch)
            {
                return armed;
            }
        }
    }

    /// <summary>The repository an event is about, as <c>account/region/name</c>, or empty for one about none.</summary>
    public static string OrderKey(JsonElement evt)
    {
        var account = Text(evt, "account");
        var region = Text(evt, "region");
        var repository = evt.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.Object ? Text(detail, "repository-name") : null;
        return repository is null ? string.Empty : $"{account}/{region}/{repository}";
    }

    private static string EventId(JsonElement evt, long position) =>
        Text(evt, "id") ?? "wharf-event-" + position.ToString(CultureInfo.InvariantCulture);

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static EventPattern? TryParse(string pattern)
    {
        try
        {
            return EventPattern.Parse(pattern);
        }
        catch (EventPatternException)
        {
            // Only valid patterns are stored; one a later version refuses matches nothing rather than stopping the feed.
            return null;
        }
    }

    private static JsonDocument? TryParseEvent(string payload)
    {
        try
        {
            var document = JsonDocument.Parse(payload);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
