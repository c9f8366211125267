using System.Collections.Concurrent;
using System.Security.Cryptography;
using Wharf.Core.Metadata;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// Server-wide HMAC keys, created once in the metadata store so that every node signs and verifies
/// with the same key (a page token or download URL from one node works on another).
/// </summary>
internal sealed class ServerKeys(IMetadataStore store, TimeProvider time)
{
    public const string PageTokens = "page-tokens";
    public const string DownloadUrls = "download-urls";

    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]>>> keys = new(StringComparer.Ordinal);

    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken)
    {
        var entry = keys.GetOrAdd(name, n => new Lazy<Task<byte[]>>(() => store.Keys.GetOrCreateAsync(n, RandomNumberGenerator.GetBytes(32), time.GetUtcNow(), CancellationToken.None)));
        var task = entry.Value;
        if (task.IsFaulted)
        {
            // A failed load (database briefly away) must not poison the cache.
            keys.TryRemove(new KeyValuePair<string, Lazy<Task<byte[]>>>(name, entry));
        }

        return task.WaitAsync(cancellationToken);
    }
}
