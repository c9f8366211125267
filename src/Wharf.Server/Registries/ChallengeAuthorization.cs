using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Wharf.Server.Registries;

/// <summary>The <c>Authorization</c> header for a repository of another registry; null when it needs none.</summary>
internal interface IRegistryAuthorization
{
    /// <summary><paramref name="refresh"/>: the last header was refused (an expired token); get a new one.</summary>
    Task<string?> GetAsync(string repository, bool refresh, CancellationToken cancellationToken);
}

/// <summary>
/// A plain OCI registry's auth, learnt from its challenge as docker and skopeo do: <c>GET /v2/</c> answers
/// 401 with <c>WWW-Authenticate: Basic …</c> (send the user name and password) or <c>Bearer realm=…,service=…</c>
/// (ask the realm for a token of scope <c>repository:&lt;name&gt;:&lt;actions&gt;</c>, with the credentials when
/// there are some). Bearer tokens are kept per repository until shortly before they expire. The scope's
/// actions are the caller's (replication asks <c>pull,push</c>, the pull-through cache <c>pull</c>), and so are
/// its failures (<see cref="IRegistryFailures"/>); messages name the peer as the caller does
/// ("region eu-oci-1 (http://…)", "upstream registry-1.docker.io").
/// </summary>
internal sealed partial class ChallengeAuthorization(
    HttpClient http,
    Uri baseUri,
    Func<CancellationToken, Task<RemoteCredential?>> credentials,
    TimeProvider time,
    string peerName,
    string actions,
    IRegistryFailures failures) : IRegistryAuthorization
{
    private const int MaxTokenResponse = 64 * 1024;
    private readonly ConcurrentDictionary<string, (string? Header, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    /// <summary>
    /// The header for <paramref name="repository"/>; an empty <paramref name="repository"/> asks a bearer token
    /// without a scope (what a login asks: it proves the credentials, not access to a repository).
    /// </summary>
    public async Task<string?> GetAsync(string repository, bool refresh, CancellationToken cancellationToken)
    {
        if (!refresh && cache.TryGetValue(repository, out var known) && known.Until > time.GetUtcNow())
        {
            return known.Header;
        }

        var what = $"the /v2/ challenge of {peerName}";
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
                throw failures.FromStatus(what, ping.StatusCode, await RegistryHttp.ReadErrorAsync(ping, cancellationToken));
            }

            challenge = ping.Headers.WwwAuthenticate.ToString();
        }
        catch (Exception e) when (failures.FromException(what, e, cancellationToken) is { } failure)
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
                ? throw failures.Denied($"{peerName} asks for a user name and password; {failures.CredentialsHint}")
                : Basic(credential.Identity, credential.Secret);
        }
        else
        {
            throw failures.Denied($"{peerName} asks for an authentication scheme Wharf does not speak: '{challenge.Split(' ')[0]}'");
        }

        cache[repository] = (header, until);
        return header;
    }

    public static string Basic(string user, string secret) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}"));

    private async Task<(string Header, DateTimeOffset Until)> BearerAsync(Dictionary<string, string> parameters, string repository, RemoteCredential? credential, CancellationToken cancellationToken)
    {
        if (!parameters.TryGetValue("realm", out var realmText) || !Uri.TryCreate(realmText, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https"))
        {
            throw failures.Denied($"{peerName} asks for a bearer token without a usable realm");
        }

        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : string.Empty);
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        if (repository.Length > 0)
        {
            query.Append("scope=").Append(Uri.EscapeDataString($"repository:{repository}:{actions}"));
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realm) { Query = query.ToString().TrimEnd('&') }.Uri);
        if (credential is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", Basic(credential.Identity, credential.Secret));
        }

        var what = $"the token service of {peerName}";
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw failures.FromStatus(what, response.StatusCode, await RegistryHttp.ReadErrorAsync(response, cancellationToken));
            }

            await using var body = await RegistryHttp.ReadBoundedAsync(response, MaxTokenResponse, what, failures, cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, default, cancellationToken);
            var token = (document.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null)
                ?? (document.RootElement.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null)
                ?? throw failures.Denied($"{what} answered without a token");

            // The spec's default lifetime is 60 s; renew a little before any lifetime runs out.
            var seconds = document.RootElement.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var s) && s > 0 ? s : 60;
            return ("Bearer " + token, time.GetUtcNow().AddSeconds(seconds * 0.8));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw failures.Broken($"{what} answered with something other than JSON");
        }
        catch (Exception e) when (failures.FromException(what, e, cancellationToken) is { } failure)
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
