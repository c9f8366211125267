using Microsoft.Extensions.Options;
using Wharf.Core.Webhooks;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Webhooks;

/// <summary>
/// Webhook delivery: the event log's consumer and the sender, both in one leased job (<see cref="WebhookJob"/>),
/// the named HTTP client, and the synchronisation of the subscriptions in settings at start.
/// </summary>
internal static class WebhookRegistration
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, WharfOptions options)
    {
        services.AddSingleton<WebhookSubscriptions>();
        services.AddSingleton<WebhookFeed>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDeliverer>();
        services.AddSingleton<IBackgroundJob, WebhookJob>();
        services.AddHostedService<WebhookSettingsSync>();
        services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // The receiver's own URL is where the event goes: a redirect is an answer (a failed attempt), not a new target.
                AllowAutoRedirect = false,
                ConnectTimeout = options.Webhooks.Timeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxResponseHeadersLength = 64,
                UseCookies = false,
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan) // each send has its own deadline
            .RemoveAllLoggers();
        return services;
    }
}

/// <summary>
/// Arms deliveries for the new events and sends the due ones, on <c>Webhooks:Interval</c>. A leased job: one
/// node at a time reads the log and delivers, so no event goes out twice from two nodes; when that node dies
/// another takes over once the lease (<c>Jobs:Lease</c>) runs out, resending what was in flight.
/// </summary>
internal sealed class WebhookJob(WebhookDeliverer deliverer, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "webhooks";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Webhooks.Interval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var report = await deliverer.RunAsync(cancellationToken);
        return report.Idle
            ? string.Empty
            : $"{report.Armed} deliveries armed, {report.Delivered} delivered, {report.Retrying} to retry, {report.DeadLettered} dead-lettered";
    }
}

/// <summary>
/// Writes the subscriptions of <c>Webhooks:Subscriptions</c> into the store as the host starts (so every node
/// delivers them, whichever read the settings), and removes those defined in settings before and no longer there.
/// </summary>
internal sealed partial class WebhookSettingsSync(
    WebhookSubscriptions subscriptions, Core.Metadata.IMetadataStore store, IOptions<WharfOptions> options, ILogger<WebhookSettingsSync> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = options.Value.Webhooks.Subscriptions;
        foreach (var (name, definition) in configured)
        {
            await subscriptions.PutAsync(name, definition.Url, definition.Secret, definition.Pattern, definition.Enabled, WebhookOrigin.Settings, cancellationToken);
        }

        var removed = 0;
        foreach (var stale in (await store.Webhooks.ListSubscriptionsAsync(cancellationToken)).Where(s => s.Origin == WebhookOrigin.Settings && !configured.ContainsKey(s.Name)))
        {
            removed += await store.Webhooks.DeleteSubscriptionAsync(stale.Name, cancellationToken) ? 1 : 0;
        }

        if (configured.Count + removed > 0)
        {
            LogSynchronised(logger, configured.Count, removed);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = WharfEventId.WebhookSettingsSynchronised, Level = LogLevel.Information, Message = "Webhooks: {Count} subscriptions from settings written to the store, {Removed} no longer in settings removed")]
    private static partial void LogSynchronised(ILogger logger, int count, int removed);
}
