using Wharf.Core.Primitives;

namespace Wharf.Core.Kms;

/// <summary>A KMS key's state, as KMS names it (<c>KeyState</c>).</summary>
public enum KmsKeyState
{
    Enabled,
    Disabled,
    PendingDeletion,
}

/// <summary>What the registry needs to know of a KMS key.</summary>
/// <param name="Arn">The key's ARN (<c>arn:aws:kms:region:account:key/key-id</c>).</param>
/// <param name="KeyId">The key id (a UUID).</param>
/// <param name="Account">The account that owns it.</param>
/// <param name="Region">The region it lives in.</param>
/// <param name="State">Enabled, disabled or pending deletion.</param>
/// <param name="AwsManaged">Whether AWS manages it (the <c>aws/ecr</c> key).</param>
public sealed record KmsKeyInfo(string Arn, string KeyId, AccountId Account, string Region, KmsKeyState State, bool AwsManaged);

/// <summary>
/// The key service as the rest of the registry sees it (ECR's checks at repository creation, the console): find
/// keys by any of KMS's names for them. Implemented by the KMS-compatible service (<c>TrentService</c>).
/// </summary>
public interface IKmsKeys
{
    /// <summary>
    /// The key that <paramref name="keyIdOrAlias"/> names in <paramref name="account"/>/<paramref name="region"/> — a key id,
    /// a key ARN, an alias name (<c>alias/x</c>) or an alias ARN — or null when it names none. An ARN of another
    /// region or account is resolved as named (the caller checks the region rule). <c>alias/aws/ecr</c> (and a null
    /// name) is the account's AWS-managed ECR key, created on first use.
    /// </summary>
    Task<KmsKeyInfo?> FindAsync(AccountId account, string region, string? keyIdOrAlias, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="caller"/> may do <paramref name="action"/> (<c>kms:Decrypt</c>, <c>kms:GenerateDataKey</c>,
    /// <c>kms:DescribeKey</c>, <c>kms:CreateGrant</c>, …) with the key, as AWS evaluates it: the key policy (and grants)
    /// together with the caller's IAM policies, with <c>kms:ViaService</c> set to <paramref name="viaService"/> when the
    /// call is made on the caller's behalf by a service (<c>ecr.region.amazonaws.com</c>), null when direct.
    /// </summary>
    Task<bool> IsAllowedAsync(Security.Caller caller, string keyArn, string action, string? viaService, CancellationToken cancellationToken);
}

/// <summary>
/// Data keys under a KMS key, for the registry's own use (KMS's <c>GenerateDataKey</c> and <c>Decrypt</c> as ECR
/// calls them on a push and a pull). Throws <see cref="Errors.WharfException"/> with the KMS error (disabled,
/// pending deletion, not found) when the key cannot be used now.
/// </summary>
public interface IKmsDataKeys
{
    /// <summary>A fresh 32-byte data key and its ciphertext blob under <paramref name="keyArn"/>'s current material.</summary>
    Task<(byte[] Plaintext, byte[] CiphertextBlob)> GenerateDataKeyAsync(string keyArn, string context, CancellationToken cancellationToken);

    /// <summary>The data key of a ciphertext blob made by <see cref="GenerateDataKeyAsync"/> (any version of the key's material).</summary>
    Task<byte[]> DecryptAsync(string keyArn, ReadOnlyMemory<byte> ciphertextBlob, string context, CancellationToken cancellationToken);
}
