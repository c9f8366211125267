using Wharf.Core.Primitives;

namespace Wharf.Core.Secrets;

/// <summary>
/// What pull-through cache rules read of a secret: the current value's <c>SecretString</c> (the
/// <c>AWSCURRENT</c> version), opened with the master key. As ECR reads a rule's secret, on the registry's
/// behalf: no caller's permission is asked here (the caller of the rules API was asked for the rule).
/// </summary>
public interface ISecretValues
{
    /// <summary>
    /// The secret named by <paramref name="secretArn"/> (its full ARN, or its ARN without the random
    /// suffix) in <paramref name="registry"/>'s account and region. Throws <see cref="Errors.WharfException"/>:
    /// <c>SecretNotFound</c> (no such secret, or scheduled for deletion), <c>UnableToAccessSecret</c> (another
    /// account or region, no string value), <c>UnableToDecryptSecretValue</c> (it does not open).
    /// </summary>
    Task<string> GetCurrentStringAsync(RegistryKey registry, string secretArn, CancellationToken cancellationToken);
}
