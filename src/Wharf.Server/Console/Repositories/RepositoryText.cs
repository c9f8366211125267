using Wharf.Core.Metadata;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>How a repository's settings read in the console (ECR's names, the exclusions and keys spelled out).</summary>
internal static class RepositoryText
{
    public static string Mutability(RepositorySettings settings) =>
        TagMutabilityNames.ToName(settings.Mutability) + (settings.MutabilityExclusions.Count > 0 ? " (except " + string.Join(", ", settings.MutabilityExclusions) + ")" : string.Empty);

    public static string Encryption(RepositorySettings settings) =>
        settings.EncryptionType + (settings.KmsKey is { } key ? " (" + key + ")" : string.Empty);
}
