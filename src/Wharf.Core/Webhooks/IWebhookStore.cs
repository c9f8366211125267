namespace Wharf.Core.Webhooks;

/// <summary>
/// Webhook subscriptions, their delivery state and the dead-letter list (docs/operations.md "Webhooks"):
/// events of the event log that match a subscription's pattern are POSTed to its URL, in order per
/// repository, at least once, by one node at a time.
/// </summary>
public interface IWebhookStore
{
}
