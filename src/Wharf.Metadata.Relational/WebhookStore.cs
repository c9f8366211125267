using Wharf.Core.Webhooks;

namespace Wharf.Metadata.Relational;

/// <summary>Webhook subscriptions, deliveries and dead letters (migration 0020).</summary>
internal sealed class WebhookStore(Database database) : IWebhookStore
{
    private readonly Database database = database;
}
