using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Metadata;

namespace Wharf.Server.WebConsole;

/// <summary>
/// Form tokens bound to a session: HMAC-SHA256 of the session's id hash under a server key that every
/// node shares (<see cref="IServerKeyStore"/>), so a token from one session is worthless in another and
/// a cross-site page cannot forge one. Compared in constant time.
/// </summary>
internal sealed class ConsoleCsrf(IMetadataStore store, TimeProvider time)
{
    /// <summary>The form field every console form carries.</summary>
    public const string FieldName = "_csrf";

    private const string KeyName = "console-csrf";
    private byte[]? key;

    public async ValueTask<string> TokenAsync(string sessionIdHash, CancellationToken cancellationToken) =>
        Convert.ToBase64String(HMACSHA256.HashData(await KeyAsync(cancellationToken), Encoding.UTF8.GetBytes(sessionIdHash)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask<bool> VerifyAsync(string sessionIdHash, string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(await TokenAsync(sessionIdHash, cancellationToken));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(token));
    }

    private async ValueTask<byte[]> KeyAsync(CancellationToken cancellationToken) =>
        key ??= await store.Keys.GetOrCreateAsync(KeyName, RandomNumberGenerator.GetBytes(32), time.GetUtcNow(), cancellationToken);
}
