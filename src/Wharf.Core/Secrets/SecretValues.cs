using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Secrets;

/// <summary>
/// <see cref="ISecretValues"/> over the secret store: the registry reads a rule's secret on its own behalf, as
/// ECR does, so no caller is asked; only a secret of the rule's own account and region is read.
/// </summary>
public sealed class SecretValues(IMetadataStore store, SecretBox box, TimeProvider time) : ISecretValues
{
    public async Task<string> GetCurrentStringAsync(RegistryKey registry, string secretArn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secretArn);
        if (SecretArns.Parse(registry, secretArn) is not { IsArn: true } named)
        {
            throw new WharfException(WharfErrorCode.SecretNotFound);
        }

        if (named.Registry != registry)
        {
            throw new WharfException(WharfErrorCode.UnableToAccessSecret);
        }

        var secret = await SecretService.FindAsync(store.Secrets, registry, secretArn, cancellationToken);
        if (secret is null || secret.IsScheduledForDeletion || SecretService.IsPastRecovery(secret, time.GetUtcNow()))
        {
            throw new WharfException(WharfErrorCode.SecretNotFound);
        }

        var current = (await store.Secrets.ListVersionsAsync(secret.Id, cancellationToken))
            .FirstOrDefault(v => v.Stages.Contains(SecretStages.Current, StringComparer.Ordinal))
            ?? throw new WharfException(WharfErrorCode.SecretNotFound);
        if (current.IsBinary)
        {
            throw new WharfException(WharfErrorCode.UnableToAccessSecret);
        }

        return (SecretSeal.TryOpen(box, secret.Arn, current) ?? throw new WharfException(WharfErrorCode.UnableToDecryptSecretValue)).Text!;
    }
}
