using System.Text.Json;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// What a rule's secret holds (ECR-NOTES §7.2): a JSON object with <c>username</c> and <c>accessToken</c>,
/// the credentials given to the upstream (Basic, or to its token service).
/// </summary>
public sealed record UpstreamCredentials(string Username, string AccessToken)
{
    /// <summary>The credentials of a secret's <c>SecretString</c>, or null when it is not the JSON ECR expects.</summary>
    public static UpstreamCredentials? Parse(string secretString)
    {
        try
        {
            using var document = JsonDocument.Parse(secretString);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("username", out var username) && username.ValueKind == JsonValueKind.String && username.GetString() is { Length: > 0 } user
                && root.TryGetProperty("accessToken", out var token) && token.ValueKind == JsonValueKind.String && token.GetString() is { Length: > 0 } secret
                ? new UpstreamCredentials(user, secret)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Never the token: records print their members.</summary>
    public override string ToString() => $"UpstreamCredentials {{ Username = {Username} }}";
}
