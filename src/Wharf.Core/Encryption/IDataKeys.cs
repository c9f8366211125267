using System.Security.Cryptography;

namespace Wharf.Core.Encryption;

/// <summary>
/// Data keys for sealing blobs (envelope encryption): a fresh 256-bit key for each sealed unit, kept only wrapped
/// (encrypted) under the scope's key. For <see cref="BlobScope.Master"/> the wrapping key is the server's master
/// key; for a KMS scope it is the KMS key's current material (<see cref="Kms.IKmsDataKeys"/>), so disabling the
/// key stops every seal and unseal at once and deleting it makes what it wrapped unrecoverable.
/// Failures of a KMS key (disabled, pending deletion, gone) throw <see cref="Errors.WharfException"/> with the
/// KMS error code; callers translate it into the surface's shape.
/// </summary>
public interface IDataKeys
{
    /// <summary>A fresh data key under <paramref name="scope"/>; <paramref name="context"/> is bound to the wrapped form (AAD / encryption context).</summary>
    Task<DataKey> GenerateAsync(BlobScope scope, string context, CancellationToken cancellationToken);

    /// <summary>The data key of <paramref name="wrapped"/> (made by <see cref="GenerateAsync"/> with the same scope and context).</summary>
    Task<DataKey> UnwrapAsync(BlobScope scope, ReadOnlyMemory<byte> wrapped, string context, CancellationToken cancellationToken);
}

/// <summary>A data key: the key itself (zeroed on dispose) and its wrapped form, which alone is ever stored.</summary>
public sealed class DataKey(byte[] key, byte[] wrapped) : IDisposable
{
    /// <summary>The 32-byte key. Never stored, never logged.</summary>
    public ReadOnlySpan<byte> Key => key;

    /// <summary>The key wrapped under its scope's key; safe to store.</summary>
    public byte[] Wrapped { get; } = wrapped;

    public void Dispose() => CryptographicOperations.ZeroMemory(key);
}
