namespace Wharf.Server.Tests.Webhooks;

/// <summary>Short delivery intervals for tests, and subscriptions in settings.</summary>
internal static class WebhookSettings
{
    public const string Secret = "webhook-test-secret-0123456789abcdef";

    public static Dictionary<string, string?> Fast(params (string Name, Uri Url, string? Pattern)[] subscriptions)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:Interval"] = "00:00:00.200",
            ["Webhooks:RetryBaseDelay"] = "00:00:00.200",
            ["Webhooks:MaxRetryDelay"] = "00:00:00.500",
            ["Webhooks:Timeout"] = "00:00:05",
            ["Lifecycle:Interval"] = "40.00:00:00",
            ["Gc:Interval"] = "40.00:00:00",
        };
        foreach (var (name, url, pattern) in subscriptions)
        {
            settings[$"Webhooks:Subscriptions:{name}:Url"] = url.AbsoluteUri;
            settings[$"Webhooks:Subscriptions:{name}:Secret"] = Secret + name;
            if (pattern is not null)
            {
                settings[$"Webhooks:Subscriptions:{name}:Pattern"] = pattern;
            }
        }

        return settings;
    }

    /// <summary>The same as <c>WHARF__*</c> environment variables, for a <c>wharf</c> process.</summary>
    public static Dictionary<string, string> Environment(Dictionary<string, string?> settings) =>
        settings.Where(s => s.Value is not null).ToDictionary(s => "WHARF__" + s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);
}
