using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Wharf.Core.Replication;

namespace Wharf.Server.Replication;

/// <summary>
/// A plain OCI registry's auth, learnt from its challenge as docker and skopeo do: <c>GET /v2/</c> answers
/// 401 with <c>WWW-Authenticate: Basic …</c> (send the user name and password) or <c>Bearer realm=…,service=…</c>
/// (ask the realm for a token of scope <c>repository:&lt;name&gt;:pull,push</c>, with the credentials when
/// there are some). Bearer tokens are kept per repository until shortly before they expire.
/// </summary>
internal sealed partial class ChallengeAuthorization(
    HttpClient http,
    Uri baseUri,
    Func<CancellationToken, Task<RemoteCredential?>> credentials,
    TimeProvider time,
    string destinationName) : IRegistryAuthorization
{
    private const int MaxTokenResponse = 64 * 1024;
    private readonly ConcurrentDictionary<string, (string? Header, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    public async Task<string?> GetAsync(string repository, bool refresh, CancellationToken cancellationToken)
    {
        if (!refresh && cache.TryGetValue(repository, out var known) && known.Until > time.GetUtcNow())
        {
            return known.Header;
        }

        var what = $"the /v2/ challenge of {destinationName}";
        string? challenge;
        try
        {
            using var ping = await http.GetAsync(new Uri(baseUri, "v2/"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (ping.IsSuccessStatusCode)
            {
                cache[repository] = (null, time.GetUtcNow().AddMinutes(5));
                return null;
            }

            if (ping.StatusCode != HttpStatusCode.Unauthorized)
            {
                throw DestinationFailures.FromStatus(what, ping.StatusCode, await DestinationFailures.ReadErrorAsync(ping, cancellationToken));
            }

            challenge = ping.Headers.WwwAuthenticate.ToString();
        }
        catch (Exception e) when (DestinationFailures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }

        var credential = await credentials(cancellationToken);
        string header;
        var until = time.GetUtcNow().AddHours(1);
        if (challenge.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            (header, until) = await BearerAsync(ParseParameters(challenge), repository, credential, cancellationToken);
        }
        else if (challenge.StartsWith("Basic", StringComparison.OrdinalIgnoreCase))
        {
            header = credential is null
                ? throw new ReplicationException(DestinationFailures.AuthFailed, $"{destinationName} asks for a user name and password; set them with 'wharf replication credentials set'", retryable: false)
                : Basic(credential.Identity, credential.Secret);
        }
        else
        {
            throw new ReplicationException(DestinationFailures.AuthFailed, $"{destinationName} asks for an authentication scheme Wharf does not speak: '{challenge.Split(' ')[0]}'", retryable: false);
        }

        cache[repository] = (header, until);
        return header;
    }

    public static string Basic(string user, string secret) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}"));

    private async Task<(string Header, DateTimeOffset Until)> BearerAsync(Dictionary<string, string> parameters, string repository, RemoteCredential? credential, CancellationToken cancellationToken)
    {
        if (!parameters.TryGetValue("realm", out var realmText) || !Uri.TryCreate(realmText, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https"))
        {
            throw new ReplicationException(DestinationFailures.AuthFailed, $"{destinationName} asks for a bearer token without a usable realm", retryable: false);
        }

        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : string.Empty);
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        query.Append("scope=").Append(Uri.EscapeDataString($"repository:{repository}:pull,push"));
        using var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realm) { Query = query.ToString() }.Uri);
        if (credential is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", Basic(credential.Identity, credential.Secret));
        }

        var what = $"the token service of {destinationName}";
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw DestinationFailures.FromStatus(what, response.StatusCode, await DestinationFailures.ReadErrorAsync(response, cancellationToken));
            }

            await using var body = await DestinationFailures.ReadBoundedAsync(response, MaxTokenResponse, what, cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, default, cancellationToken);
            var token = (document.RootElement.TryGetProperty("token", out var t) ? t.GetString() : null)
                ?? (document.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null)
                ?? throw new ReplicationException(DestinationFailures.AuthFailed, $"{what} answered without a token", retryable: false);

            // The spec's default lifetime is 60 s; renew a little before any lifetime runs out.
            var seconds = document.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) && s > 0 ? s : 60;
            return ("Bearer " + token, time.GetUtcNow().AddSeconds(seconds * 0.8));
        }
        catch (JsonException)
        {
            throw new ReplicationException(DestinationFailures.Rejected, $"{what} answered with something other than JSON", retryable: false);
        }
        catch (Exception e) when (DestinationFailures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    private static Dictionary<string, string> ParseParameters(string challenge)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match match in Parameter().Matches(challenge))
        {
            parameters.TryAdd(match.Groups["name"].Value, match.Groups["quoted"].Success ? match.Groups["quoted"].Value : match.Groups["plain"].Value);
        }

        return parameters;
    }

    [GeneratedRegex("""(?<name>[A-Za-z_]+)=(?:"(?<quoted>[^"]*)"|(?<plain>[^,\s]+))""", RegexOptions.CultureInvariant)]
    private static partial Regex Parameter();
}
