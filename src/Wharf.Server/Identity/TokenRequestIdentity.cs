using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>
/// IAM mode on /v2: HTTP Basic with user <c>AWS</c> and a <c>GetAuthorizationToken</c> password, as ECR.
/// No or a bad token is 401 with ECR's Basic challenge; an expired one 403 <c>DENIED</c>. Tokens are
/// region-bound: a token for another region than the registry's does not authenticate. A token is
/// also bound to what issued it, checked on every request: the principal's unique id (a user deleted
/// and created again under the same name does not revive it), the access key that signed
/// <c>GetAuthorizationToken</c> (deactivated or deleted, its tokens end), and for a role session the
/// role's unique id (the session's own end is the token's expiry).
/// A password that passed these checks is remembered, keyed by the SHA-256 of the header that carried it, while the
/// store's authorization generation is unchanged (any identity, key or signing key write, by any process or node,
/// changes it) and never past the token's own expiry (docs/identity.md "Caches and their bounds"). The generation
/// goes on with the caller to the request's authorization. It is read at most every <see cref="GenerationMaxAge"/>
/// and again after any write of this process: a change made through this node applies to its next request, one
/// made by another node or process within <see cref="GenerationMaxAge"/>.
/// On an HTTP/1.x keep-alive connection the identity last resolved is also kept on the connection, with the header
/// string that carried it: Kestrel hands each request the same string instance when its <c>Authorization</c> bytes repeat
/// the previous request's on that connection (its header string reuse, which keeps that string for the connection
/// anyway), so the very same reference is the very same password, recognised without hashing it. It is served under
/// the same bounds as the node's cache: the same generation, before the token's expiry, for the same registry.
/// </summary>
internal sealed class TokenRequestIdentity(RegistryHostMatcher hosts, AuthTokens tokens, IMetadataStore store, TimeProvider time) : IRequestIdentityResolver
{
    /// <summary>
    /// How old a reading of the authorization generation may be when a /v2 request uses it: the bound within which
    /// another node's or process's change applies here. Reading it costs a statement per request otherwise (a fifth
    /// of IAM mode's extra CPU per manifest GET; bench/RESULTS.md, "Small requests, session 35").
    /// </summary>
    internal static readonly TimeSpan GenerationMaxAge = TimeSpan.FromMilliseconds(50);

    // The connection item that holds a keep-alive connection's last identity (ConnectionMemo).
    private static readonly object MemoKey = new();

    private readonly AuthorizationCache<HeaderHash, AuthToken> verified = new();

    public async ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var registry = hosts.Match(context.Request.Host.Host);
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            throw Challenge(context);
        }

        // Read before the checks it guards, so what they read is at least as new as it.
        var generation = await store.Identities.GetRecentAuthorizationGenerationAsync(GenerationMaxAge, cancellationToken);
        var memo = MemoOf(context);
        if (memo is { Identity: { } last } && ReferenceEquals(memo.Header, header) && last.Caller.AuthorizationGeneration == generation
            && time.GetUtcNow() < memo.ExpiresAt && last.Registry == registry
            && Equals(memo.RemoteAddress, context.Connection.RemoteIpAddress) && last.Caller.SecureTransport == context.Request.IsHttps)
        {
            // The identity carries the request's source address and transport (aws:SourceIp, aws:SecureTransport): they
            // are the connection's, checked anyway so that nothing that rewrites them per request is ever answered stale.
            return last;
        }

        var key = HeaderHash.Of(header);
        if (verified.TryGet(key, generation, out var hit) && time.GetUtcNow() < hit.ExpiresAt && hit.Region == registry.Region)
        {
            return Remember(memo, header, context.Connection.RemoteIpAddress, hit, IdentityOf(context, registry, hit, generation));
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            throw Challenge(context);
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || decoded[..colon] != "AWS")
        {
            throw Challenge(context);
        }

        var (status, token) = await tokens.ReadAsync(decoded[(colon + 1)..], cancellationToken);
        if (status == AuthTokenStatus.Expired)
        {
            throw new WharfException(WharfErrorCode.TokenExpired);
        }

        if (status != AuthTokenStatus.Valid || token!.Region != registry.Region || !await StillIssuedAsync(store, token, cancellationToken))
        {
            throw Challenge(context);
        }

        verified.Set(key, generation, token);
        return Remember(memo, header, context.Connection.RemoteIpAddress, token, IdentityOf(context, registry, token, generation));
    }

    // HTTP/1.x only: its requests on a connection come one at a time (HTTP/2's streams share the connection's items concurrently).
    private static ConnectionMemo? MemoOf(HttpContext context)
    {
        var protocol = context.Request.Protocol;
        if ((!HttpProtocol.IsHttp11(protocol) && !HttpProtocol.IsHttp10(protocol))
            || context.Features.Get<IConnectionItemsFeature>()?.Items is not { } items)
        {
            return null;
        }

        if (items.TryGetValue(MemoKey, out var found) && found is ConnectionMemo memo)
        {
            return memo;
        }

        memo = new ConnectionMemo();
        items[MemoKey] = memo;
        return memo;
    }

    private static RequestIdentity Remember(ConnectionMemo? memo, string header, System.Net.IPAddress? remoteAddress, AuthToken token, RequestIdentity identity)
    {
        if (memo is not null)
        {
            memo.Identity = null; // never a new header with the old identity, even for a moment
            memo.Header = header;
            memo.ExpiresAt = token.ExpiresAt;
            memo.RemoteAddress = remoteAddress;
            memo.Identity = identity;
        }

        return identity;
    }

    // A keep-alive connection's last verified header (the string Kestrel gave the request) and what it resolved to.
    private sealed class ConnectionMemo
    {
        public string? Header { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }

        public System.Net.IPAddress? RemoteAddress { get; set; }

        public RequestIdentity? Identity { get; set; }
    }

    // The SHA-256 of an Authorization header: what the node's cache is keyed by (the header itself is not kept there).
    // Four words rather than a hex string: no string to build or hash per request.
    private readonly record struct HeaderHash(ulong A, ulong B, ulong C, ulong D)
    {
        public static HeaderHash Of(string header)
        {
            var length = Encoding.UTF8.GetMaxByteCount(header.Length);
            var rented = length > 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
            try
            {
                var bytes = rented ?? stackalloc byte[length];
                var written = Encoding.UTF8.GetBytes(header, bytes);
                Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
                SHA256.HashData(bytes[..written], hash);
                return new(
                    BinaryPrimitives.ReadUInt64LittleEndian(hash),
                    BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
    }

    private static RequestIdentity IdentityOf(HttpContext context, RegistryKey registry, AuthToken token, long generation) =>
        new(registry, new Caller(token.Account, token.PrincipalArn, IsAnonymous: false)
        {
            UserId = token.PrincipalId,
            AccessKeyId = token.AccessKeyId,
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            SecureTransport = context.Request.IsHttps,
            AuthorizationGeneration = generation,
        });

    /// <summary>Whether the principal and key the token was issued to are still the ones that exist (also the public address's check).</summary>
    internal static async Task<bool> StillIssuedAsync(IMetadataStore store, AuthToken token, CancellationToken cancellationToken)
    {
        var identityArn = RoleSession.IdentityArnOf(token.PrincipalArn);
        if (identityArn != token.PrincipalArn)
        {
            // A role session: its id is "<role id>:<session>"; its ASIA key is not stored.
            var colon = token.PrincipalId.IndexOf(':', StringComparison.Ordinal);
            return colon > 0
                && await store.Identities.GetPrincipalAsync(identityArn, cancellationToken) is { } role
                && role.UniqueId == token.PrincipalId[..colon];
        }

        return await store.Identities.GetPrincipalAsync(token.PrincipalArn, cancellationToken) is { } principal
            && principal.UniqueId == token.PrincipalId
            && await store.Identities.GetAccessKeyAsync(token.AccessKeyId, cancellationToken) is { Active: true } key
            && key.PrincipalArn == token.PrincipalArn;
    }

    /// <summary>ECR's challenge: Basic, with the registry's URL as the realm.</summary>
    public static WharfException Challenge(HttpContext context) =>
        new(WharfErrorCode.Unauthorized, "Not Authorized")
        {
            Headers = new Dictionary<string, string>
            {
                ["WWW-Authenticate"] = $"Basic realm=\"https://{context.Request.Host}/\",service=\"ecr.amazonaws.com\"",
            },
        };
}
