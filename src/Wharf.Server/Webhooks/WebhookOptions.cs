namespace Wharf.Server.Hosting;

/// <summary>Webhooks (<c>Webhooks:*</c>).</summary>
public sealed class WebhookOptions
{
}
