using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Kms;

namespace Wharf.Core.Encryption;

/// <summary>
/// <see cref="IDataKeys"/>: under <see cref="BlobScope.Master"/> a data key is wrapped with the server's master key
/// (AES-256-GCM, <see cref="SecretBox"/>) with the scope and context as associated data; under a KMS scope the key
/// service makes and opens it (<see cref="IKmsDataKeys"/>), so its checks (disabled, pending deletion) apply to every
/// seal and unseal. Unwrapped keys are not cached: unwrapping under the master key and setting up the run's cipher
/// measured about 45 µs here (less than sealing one 64 KiB segment, about 118 µs on the same loaded machine), once
/// per run a read touches, and a KMS key's state must stop reads at once.
/// </summary>
public sealed class DataKeys(Lazy<SecretBox> masterKey, Lazy<IKmsDataKeys?> kmsKeys) : IDataKeys
{
    public DataKeys(SecretBox master, IKmsDataKeys? kms = null)
        : this(new Lazy<SecretBox>(master), new Lazy<IKmsDataKeys?>(kms))
    {
    }

    // Both loaded on first use, not when the vault is built: commands such as `wharf migrate` build the data plane's
    // services before they copy a source's master key into place, and must not find one made already (the key
    // service holds the master key too).
    private SecretBox Master => masterKey.Value;

    private const int KeySize = 32;

    public async Task<DataKey> GenerateAsync(BlobScope scope, string context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (scope.KmsKeyArn is { } arn)
        {
            var (plaintext, blob) = await Kms().GenerateDataKeyAsync(arn, context, cancellationToken);
            if (plaintext.Length != KeySize)
            {
                CryptographicOperations.ZeroMemory(plaintext);
                throw new CryptographicException($"The key service returned a data key of {plaintext.Length} bytes, not {KeySize}.");
            }

            return new DataKey(plaintext, blob);
        }

        var key = RandomNumberGenerator.GetBytes(KeySize);
        return new DataKey(key, Master.Seal(key, MasterAad(context)));
    }

    public async Task<DataKey> UnwrapAsync(BlobScope scope, ReadOnlyMemory<byte> wrapped, string context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        byte[] key;
        if (scope.KmsKeyArn is { } arn)
        {
            key = await Kms().DecryptAsync(arn, wrapped, context, cancellationToken);
        }
        else
        {
            key = Master.Open(wrapped.ToArray(), MasterAad(context));
        }

        if (key.Length != KeySize)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new CryptographicException($"The unwrapped data key has {key.Length} bytes, not {KeySize}.");
        }

        return new DataKey(key, wrapped.ToArray());
    }

    private IKmsDataKeys Kms() => kmsKeys.Value ?? throw new WharfException(
        WharfErrorCode.Unsupported,
        "this repository is encrypted with a KMS key, but this server runs no key service to use it");

    private static byte[] MasterAad(string context) => Encoding.UTF8.GetBytes("wharf-datakey/v1\0" + BlobScope.Master.Id + "\0" + context);
}
