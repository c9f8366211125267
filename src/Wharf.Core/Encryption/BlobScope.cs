namespace Wharf.Core.Encryption;

/// <summary>
/// The key a repository's blobs are sealed under: the server's master key (<c>AES256</c>, every such repository
/// shares one scope, so identical layers are stored once) or one KMS key (<c>KMS</c>: the key's ARN; a blob pushed
/// to repositories under two keys is stored once per key, as ECR keeps one encrypted copy per key).
/// Fixed when the repository is created (ECR: encryption cannot be changed afterwards).
/// </summary>
/// <param name="KmsKeyArn">The KMS key's ARN (<c>arn:aws:kms:region:account:key/id</c>), or null for the master key.</param>
public sealed record BlobScope(string? KmsKeyArn)
{
    /// <summary>The master key's scope (<c>AES256</c>).</summary>
    public static readonly BlobScope Master = new((string?)null);

    /// <summary>
    /// The scope of a repository with <paramref name="settings"/>: its KMS key for <c>KMS</c>/<c>KMS_DSSE</c> (stored as the
    /// key's ARN, resolved when the repository is created), the master key otherwise.
    /// </summary>
    public static BlobScope Of(Metadata.RepositorySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.EncryptionType is "KMS" or "KMS_DSSE" && settings.KmsKey is { Length: > 0 } key ? new BlobScope(key) : Master;
    }

    /// <summary>Whether this is a KMS key's scope.</summary>
    public bool IsKms => KmsKeyArn is not null;

    /// <summary>A stable name for logs, metadata rows and derived storage addresses: <c>aes256</c> or the key's ARN.</summary>
    public string Id => KmsKeyArn ?? "aes256";
}
