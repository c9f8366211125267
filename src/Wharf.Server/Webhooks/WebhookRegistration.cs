using Wharf.Server.Hosting;

namespace Wharf.Server.Webhooks;

/// <summary>Webhook delivery: the event log's consumer, signing, retries and the dead-letter list.</summary>
internal static class WebhookRegistration
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, WharfOptions options) => services;
}
