using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Server.Registries;

namespace Wharf.Server.Replication;

/// <summary>
/// The remote regions' credentials, sealed with the master key (as access-key secrets are) and kept with the
/// server keys every node shares, one per region: a database dump alone reveals none, and no settings file
/// ever holds one. Each is bound to its region's name, so a value moved to another region fails to open.
/// </summary>
internal sealed class RemoteCredentials(IMetadataStore store, SecretBox secrets, TimeProvider time)
{
    private const string Prefix = "replication-credentials/";

    public async Task SetAsync(string region, RemoteCredential credential, CancellationToken cancellationToken)
    {
        var name = Prefix + region;
        var plain = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["identity"] = credential.Identity, ["secret"] = credential.Secret }, Errors.ServerJsonContext.Default.DictionaryStringString);
        var sealedValue = secrets.Seal(plain, Encoding.UTF8.GetBytes(name));
        CryptographicOperations.ZeroMemory(plain);

        // The key store only adds: a replaced credential is removed first (an operator's command, not a race).
        await store.Keys.DeleteAsync(name, cancellationToken);
        await store.Keys.GetOrCreateAsync(name, sealedValue, time.GetUtcNow(), cancellationToken);
    }

    public Task<bool> DeleteAsync(string region, CancellationToken cancellationToken) => store.Keys.DeleteAsync(Prefix + region, cancellationToken);

    /// <summary>The regions that have credentials.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        (await store.Keys.ListAsync(Prefix, cancellationToken)).Select(k => k.Name[Prefix.Length..]).ToList();

    /// <summary>The region's credential, or null when none is set. Throws when it cannot be opened (another master key).</summary>
    public async Task<RemoteCredential?> GetAsync(string region, CancellationToken cancellationToken)
    {
        var name = Prefix + region;
        var found = (await store.Keys.ListAsync(name, cancellationToken)).FirstOrDefault(k => k.Name == name);
        if (found.Value is null)
        {
            return null;
        }

        var plain = secrets.Open(found.Value, Encoding.UTF8.GetBytes(name));
        try
        {
            using var document = JsonDocument.Parse(plain);
            return new RemoteCredential(document.RootElement.GetProperty("identity").GetString()!, document.RootElement.GetProperty("secret").GetString()!);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}
