using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Webhooks;

namespace Wharf.Server.Webhooks;

/// <summary>
/// Subscriptions as the admin command and the settings define them: checked (name, URL, secret, pattern),
/// the secret sealed with the master key (bound to the subscription's name) before it reaches the store.
/// </summary>
internal sealed partial class WebhookSubscriptions(IMetadataStore store, SecretBox box, TimeProvider time)
{
    /// <summary>The pattern of a subscription given none: every event Wharf records.</summary>
    public const string AllEvents = """{"source":[{"prefix":""}]}""";

    public const int MaxSecretLength = 1024;

    public const int MinSecretLength = 16;

    /// <summary>Creates or replaces a subscription; returns true when it was new. Throws <see cref="WebhookDefinitionException"/> for a bad one.</summary>
    public async Task<bool> PutAsync(string name, string? url, string? secret, string? pattern, bool enabled, WebhookOrigin origin, CancellationToken cancellationToken)
    {
        var (uri, text) = Check(name, url, secret, pattern);
        var sealedSecret = Seal(name, secret!);
        return await store.Webhooks.PutSubscriptionAsync(new WebhookSubscription(name, uri, sealedSecret, text, enabled, origin, time.GetUtcNow()), cancellationToken);
    }

    /// <summary>The subscription's secret, or null when it does not open (another master key).</summary>
    public byte[]? OpenSecret(WebhookSubscription subscription)
    {
        try
        {
            return box.Open(subscription.SealedSecret, Binding(subscription.Name));
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The URL and pattern of a valid definition, or throws saying what to fix; used by the settings' validation too.</summary>
    public static (Uri Url, string Pattern) Check(string name, string? url, string? secret, string? pattern)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new WebhookDefinitionException($"'{name}' is not a webhook name: 1 to 64 letters, digits, '.', '_' or '-'");
        }

        var uri = CheckUrl(url) is { } problem ? throw new WebhookDefinitionException($"webhook {name}: {problem}") : new Uri(url!, UriKind.Absolute);
        if (string.IsNullOrEmpty(secret) || secret.Length < MinSecretLength || secret.Length > MaxSecretLength)
        {
            throw new WebhookDefinitionException($"webhook {name}: the secret must be {MinSecretLength} to {MaxSecretLength} characters (such as 32 random bytes in hex)");
        }

        var text = string.IsNullOrWhiteSpace(pattern) ? AllEvents : pattern;
        try
        {
            EventPattern.Parse(text);
        }
        catch (EventPatternException e)
        {
            throw new WebhookDefinitionException($"webhook {name}: {e.Message}");
        }

        return (uri, text);
    }

    /// <summary>Null for an absolute http or https URL with a host and no user info; otherwise why not.</summary>
    public static string? CheckUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return $"'{url}' is not an absolute URL; give one such as https://hooks.example.com/wharf";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
        {
            return $"the URL scheme '{uri.Scheme}' is not taken; webhooks are delivered over http or https only";
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            return $"'{url}' names no host; give a URL such as https://hooks.example.com/wharf";
        }

        return uri.UserInfo.Length > 0 ? "the URL carries a user name or password, which would be shown wherever the URL is; put credentials in the receiver's check of the signature instead" : null;
    }

    private byte[] Seal(string name, string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        try
        {
            return box.Seal(plain, Binding(name));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private static byte[] Binding(string name) => Encoding.UTF8.GetBytes($"webhook\n{name}");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>A webhook definition Wharf refuses; the message says what to fix.</summary>
internal sealed class WebhookDefinitionException(string message) : Exception(message);
