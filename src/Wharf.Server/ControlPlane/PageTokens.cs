using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Errors;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// Opaque <c>nextToken</c>s: the cursor (the last key returned; listings are keyset-paged, so concurrent
/// pushes never shift a page) MAC'd together with the scope it was issued for — operation, registry,
/// repository and filter. A token altered, or presented for another scope, is rejected.
/// </summary>
internal sealed class PageTokens(ServerKeys keys)
{
    public async Task<string> SealAsync(string scope, string cursor, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(cursor);
        var mac = await MacAsync(scope, payload, cancellationToken);
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>The cursor inside <paramref name="token"/>, or <c>InvalidParameterException</c>.</summary>
    public async Task<string> OpenAsync(string scope, string token, CancellationToken cancellationToken)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        byte[] payload;
        byte[] mac;
        try
        {
            payload = dot > 0 ? Base64Url.DecodeFromChars(token.AsSpan(0, dot)) : throw Invalid();
            mac = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            throw Invalid();
        }

        var expected = await MacAsync(scope, payload, cancellationToken);
        return CryptographicOperations.FixedTimeEquals(mac, expected) ? Encoding.UTF8.GetString(payload) : throw Invalid();
    }

    private async Task<byte[]> MacAsync(string scope, byte[] payload, CancellationToken cancellationToken)
    {
        var key = await keys.GetAsync(ServerKeys.PageTokens, cancellationToken);
        byte[] scoped = [.. Encoding.UTF8.GetBytes(scope + "\n"), .. payload];
        return HMACSHA256.HashData(key, scoped);
    }

    private static WharfException Invalid() =>
        new(WharfErrorCode.InvalidParameter, "Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token was not issued for this request'");
}
