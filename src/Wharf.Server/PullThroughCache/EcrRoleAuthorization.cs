using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Registries;

namespace Wharf.Server.PullThroughCache;

/// <summary>
/// An <c>ecr</c> upstream (another Wharf, or ECR) reached through the rule's role, as ECR reaches one: STS
/// <c>AssumeRole</c> on the upstream with <paramref name="caller"/>'s key, then ECR <c>GetAuthorizationToken</c>
/// with the session's temporary credentials, then <c>/v2</c> with <c>Basic AWS:&lt;password&gt;</c>. The header is
/// one for every repository, kept until shortly before the token (or the session) expires.
/// </summary>
internal sealed class EcrRoleAuthorization(
    HttpClient http,
    Uri baseUri,
    string region,
    string roleArn,
    RemoteCredential caller,
    TimeProvider time,
    TimeSpan timeout,
    string upstreamName) : IRegistryAuthorization
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);
    private volatile Token? token;

    public async Task<string?> GetAsync(string repository, bool refresh, CancellationToken cancellationToken)
    {
        // Two pulls that both find the token stale each fetch one; either is good (the reference is swapped whole).
        if (!refresh && token is { } known && known.Until > time.GetUtcNow())
        {
            return known.Header;
        }

        var failures = UpstreamFailures.Instance;
        XElement assumed;
        try
        {
            assumed = await new AwsApiClient(http, baseUri, region, _ => Task.FromResult(caller), time, timeout, failures)
                .QueryAsync("sts", "AssumeRole", new Dictionary<string, string> { ["RoleArn"] = roleArn, ["RoleSessionName"] = HttpUpstreamRegistries.RoleSessionName }, cancellationToken);
        }
        catch (AwsApiException e)
        {
            throw Refused("AssumeRole", e);
        }

        var credentials = assumed.Elements().FirstOrDefault(e => e.Name.LocalName == "Credentials");
        string? Field(string name) => credentials?.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        if (Field("AccessKeyId") is not { Length: > 0 } keyId || Field("SecretAccessKey") is not { Length: > 0 } secret || Field("SessionToken") is not { Length: > 0 } session)
        {
            throw failures.Broken($"{upstreamName}: AssumeRole of {roleArn} answered without credentials");
        }

        var sessionEnds = DateTimeOffset.TryParse(Field("Expiration"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiration) ? expiration : time.GetUtcNow().AddHours(1);
        var temporary = new RemoteCredential(keyId, secret) { SessionToken = session };

        JsonObject answer;
        try
        {
            answer = await new AwsApiClient(http, baseUri, region, _ => Task.FromResult(temporary), time, timeout, failures)
                .CallAsync("GetAuthorizationToken", [], cancellationToken);
        }
        catch (AwsApiException e)
        {
            throw Refused("GetAuthorizationToken", e);
        }

        var data = (answer["authorizationData"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var encoded = data?["authorizationToken"] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw failures.Broken($"{upstreamName}: GetAuthorizationToken answered without a token");
        var expires = data["expiresAt"] is JsonValue at && at.TryGetValue<double>(out var seconds) ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : sessionEnds;
        var end = expires < sessionEnds ? expires : sessionEnds;
        var now = time.GetUtcNow();
        var margin = TimeSpan.FromTicks(Math.Min(RenewBefore.Ticks, Math.Max(0, (end - now).Ticks / 5)));
        var fresh = new Token("Basic " + encoded, end - margin);
        token = fresh;
        return fresh.Header;
    }

    /// <summary>The upstream's refusal: its credentials' or permissions' (AccessDenied), or anything else it answered (Unavailable).</summary>
    private UpstreamException Refused(string operation, AwsApiException e)
    {
        var message = e.Message.Length <= 300 ? e.Message : e.Message[..300] + "...";
        return e.Type is "AccessDenied" or "AccessDeniedException" or "UnrecognizedClientException" or "UnrecognizedClient" or "InvalidClientTokenId"
            or "InvalidSignatureException" or "SignatureDoesNotMatch" or "ExpiredTokenException" or "ExpiredToken" or "IncompleteSignatureException" or "IncompleteSignature"
            ? new UpstreamException(UpstreamFailure.AccessDenied, $"{upstreamName} refused {operation} for role {roleArn}: {message}", e)
            : new UpstreamException(UpstreamFailure.Unavailable, $"{upstreamName} answered {operation} for role {roleArn} with {message}", e);
    }

    private sealed record Token(string Header, DateTimeOffset Until);
}
