namespace Wharf.Server.Registries;

/// <summary>
/// What this Wharf presents to another registry: an access key id and secret (another Wharf's AWS APIs; with
/// <see cref="SessionToken"/> when they are a role's temporary credentials), or a user name and password or token
/// (an OCI registry).
/// </summary>
internal sealed record RemoteCredential(string Identity, string Secret)
{
    /// <summary>The <c>X-Amz-Security-Token</c> of temporary credentials (from <c>AssumeRole</c>), else null.</summary>
    public string? SessionToken { get; init; }

    // Never the secret: a credential that reaches a log or an exception message shows only who it is.
    public override string ToString() => $"{Identity} (secret hidden)";
}
