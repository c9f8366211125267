namespace Wharf.Server.Hosting;

/// <summary>Webhooks (<c>Webhooks:*</c>): subscriptions from settings, delivery retries (docs/operations.md "Webhooks").</summary>
public sealed class WebhookOptions
{
    /// <summary>Subscriptions by name (<c>Webhooks:Subscriptions:&lt;name&gt;:Url|Secret|Pattern|Enabled</c>), synchronised into the store at start.</summary>
    public Dictionary<string, WebhookSubscriptionOptions> Subscriptions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often the event log is read for events to deliver, and due deliveries are sent.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one delivery may take, connection to response; longer counts as a failed attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries at once (each to a different repository's queue).</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>The first retry's delay; each further retry doubles it, up to <see cref="MaxRetryDelay"/>, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest delay between two attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long after its first attempt a delivery is retried before it becomes a dead letter.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>One subscription defined in settings.</summary>
public sealed class WebhookSubscriptionOptions
{
    /// <summary>The http or https URL deliveries are POSTed to.</summary>
    public string? Url { get; set; }

    /// <summary>The signing secret (set it through <c>WHARF__Webhooks__Subscriptions__&lt;name&gt;__Secret</c> rather than a file others read).</summary>
    public string? Secret { get; set; }

    /// <summary>The EventBridge event pattern as JSON; without it, every event.</summary>
    public string? Pattern { get; set; }

    public bool Enabled { get; set; } = true;
}
