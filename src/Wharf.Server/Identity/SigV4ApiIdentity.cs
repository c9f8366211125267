using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>
/// IAM mode: verifies the request's SigV4 signature (header or presigned query) against the access
/// key's secret, unsealed with the master key, and makes its principal the caller. AWS's error shapes
/// for each failure; clock skew of 15 minutes.
/// </summary>
internal sealed class SigV4ApiIdentity(IMetadataStore store, SecretBox secrets, TimeProvider time) : IApiIdentityResolver
{
    public async ValueTask<ApiIdentity> ResolveAsync(HttpContext context, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var request = ToSigV4Request(context, body.Span);
        var claim = ReadClaim(request);

        // The signature covers the body received, never a hash the client declares beside it.
        if (SigV4.PayloadMismatch(context.Request.Headers["x-amz-content-sha256"].ToString(), request.PayloadHash) is { } mismatch)
        {
            throw new WharfException(WharfErrorCode.InvalidSignature, mismatch);
        }

        var session = OpenInTime(claim);
        var caller = session is { } temporary
            ? await TemporaryAsync(request, claim, temporary.Session, temporary.Secret, cancellationToken)
            : await PermanentAsync(request, claim, cancellationToken);
        return new ApiIdentity(
            caller with
            {
                SourceIp = context.Connection.RemoteIpAddress?.ToString(),
                SecureTransport = context.Request.IsHttps,
            },
            claim.Region,
            claim.Service);
    }

    public async ValueTask PrecheckAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var claim = ReadClaim(ToSigV4Request(context, []));
        if (OpenInTime(claim) is null)
        {
            _ = await ActiveKeyAsync(claim, cancellationToken);
        }
    }

    private static SigV4Claim ReadClaim(SigV4Request request)
    {
        try
        {
            return SigV4.ReadClaim(request) ?? throw new WharfException(WharfErrorCode.MissingAuthenticationToken);
        }
        catch (SigV4FormatException e)
        {
            throw new WharfException(WharfErrorCode.IncompleteSignature, e.Message);
        }
    }

    // Temporary credentials first: an expired session says so whatever the request's clock.
    private (RoleSession Session, string Secret)? OpenInTime(SigV4Claim claim)
    {
        var now = time.GetUtcNow();
        var session = claim.SessionToken is null ? ((RoleSession Session, string Secret)?)null : OpenSession(claim, now);
        if (claim.Presigned ? now > claim.RequestTime + claim.Expires!.Value || claim.RequestTime - now > SigV4.MaxSkew : (now - claim.RequestTime).Duration() > SigV4.MaxSkew)
        {
            throw new WharfException(
                WharfErrorCode.InvalidSignature,
                $"Signature expired: {claim.RequestTime.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} is now earlier than {(now - SigV4.MaxSkew).UtcDateTime:yyyyMMdd'T'HHmmss'Z'} ({now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} - 15 min.)");
        }

        return session;
    }

    private async Task<AccessKeyRecord> ActiveKeyAsync(SigV4Claim claim, CancellationToken cancellationToken)
    {
        var key = await store.Identities.GetAccessKeyAsync(claim.AccessKeyId, cancellationToken);
        return key is { Active: true } ? key : throw new WharfException(WharfErrorCode.UnrecognizedClient);
    }

    // An access key from the store: active, its secret unsealed with the master key, its principal alive.
    private async Task<Caller> PermanentAsync(SigV4Request request, SigV4Claim claim, CancellationToken cancellationToken)
    {
        var key = await ActiveKeyAsync(claim, cancellationToken);
        string secret;
        try
        {
            secret = AccessKeys.Unseal(key, secrets);
        }
        catch (CryptographicException)
        {
            // A key sealed under another master key (a wrong key file): unusable, never a 500.
            throw new WharfException(WharfErrorCode.UnrecognizedClient);
        }

        if (!SigV4.Verify(request, claim, secret))
        {
            throw new WharfException(WharfErrorCode.InvalidSignature);
        }

        var principal = await store.Identities.GetPrincipalAsync(key.PrincipalArn, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.UnrecognizedClient);
        return new Caller(principal.Account, principal.Arn, IsAnonymous: false) { UserId = principal.UniqueId, AccessKeyId = key.Id };
    }

    // Temporary credentials: the session token holds the session and its secret, sealed to the key id.
    private (RoleSession Session, string Secret) OpenSession(SigV4Claim claim, DateTimeOffset now)
    {
        if (SessionCredentials.Open(claim.AccessKeyId, claim.SessionToken!, secrets) is not { } opened)
        {
            throw new WharfException(WharfErrorCode.UnrecognizedClient);
        }

        return now >= opened.Session.ExpiresAt
            ? throw new WharfException(WharfErrorCode.TokenExpired, "The security token included in the request is expired")
            : opened;
    }

    // A session of a role since deleted, or deleted and created again under the same name (a new
    // unique id), is over: the new role's policies must not apply to the old role's sessions.
    private async Task<Caller> TemporaryAsync(SigV4Request request, SigV4Claim claim, RoleSession session, string secret, CancellationToken cancellationToken)
    {
        if (!SigV4.Verify(request, claim, secret))
        {
            throw new WharfException(WharfErrorCode.InvalidSignature);
        }

        if (await store.Identities.GetPrincipalAsync(session.RoleArn, cancellationToken) is not { } role || role.UniqueId != session.RoleUniqueId)
        {
            throw new WharfException(WharfErrorCode.UnrecognizedClient);
        }

        return new Caller(session.Account, session.Arn, IsAnonymous: false) { UserId = session.UserId, CredentialsExpireAt = session.ExpiresAt, AccessKeyId = claim.AccessKeyId };
    }

    /// <summary>The request as SigV4 sees it: raw path and query as sent, headers, the hash of the body received.</summary>
    public static SigV4Request ToSigV4Request(HttpContext context, ReadOnlySpan<byte> body)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var question = raw.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? raw : raw[..question];
        var query = question < 0 ? [] : SigV4.ParseQuery(raw[(question + 1)..]);
        var headers = context.Request.Headers;
        var payload = SigV4.Hex(SHA256.HashData(body));
        return new SigV4Request(
            context.Request.Method,
            path,
            query,
            name => headers.TryGetValue(name, out var values) ? string.Join(',', values.Select(v => v?.Trim())) : null,
            payload);
    }
}
