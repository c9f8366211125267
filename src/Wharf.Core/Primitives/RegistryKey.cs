namespace Wharf.Core.Primitives;

/// <summary>
/// A registry: one private registry per account and region (DESIGN.md "Which registry a request is for"),
/// and one public registry per account (ECR Public), whose region is <see cref="PublicRegion"/>.
/// </summary>
public readonly record struct RegistryKey(AccountId Account, string Region)
{
    /// <summary>
    /// The region of every public registry. No region name, credential scope or host pattern can spell
    /// it (they allow no <c>_</c>), so the private API and /v2 never reach a public registry.
    /// </summary>
    public const string PublicRegion = "_public";

    /// <summary>The account's public registry (ECR Public).</summary>
    public static RegistryKey Public(AccountId account) => new(account, PublicRegion);

    public bool IsPublic => Region == PublicRegion;

    /// <summary>
    /// What a registry-wide operation (listing repositories) is authorised against:
    /// <c>arn:aws:ecr:&lt;region&gt;:&lt;account&gt;:repository/*</c>, or <c>arn:aws:ecr-public::&lt;account&gt;:repository/*</c>.
    /// </summary>
    public string RepositoriesArn => IsPublic ? $"arn:aws:ecr-public::{Account}:repository/*" : $"arn:aws:ecr:{Region}:{Account}:repository/*";

    /// <summary>ECR Public's registry ARN, <c>arn:aws:ecr-public::&lt;account&gt;:registry/&lt;account&gt;</c> (public registries only).</summary>
    public string PublicRegistryArn => $"arn:aws:ecr-public::{Account}:registry/{Account}";

    public override string ToString() => $"{Account}/{Region}";
}

/// <summary>A repository within its registry.</summary>
public sealed record RepositoryKey(RegistryKey Registry, RepositoryName Name)
{
    /// <summary>
    /// <c>arn:aws:ecr:&lt;region&gt;:&lt;account&gt;:repository/&lt;name&gt;</c>; for a public repository ECR Public's
    /// <c>arn:aws:ecr-public::&lt;account&gt;:repository/&lt;name&gt;</c> (no region).
    /// </summary>
    public string Arn => Registry.IsPublic
        ? $"arn:aws:ecr-public::{Registry.Account}:repository/{Name}"
        : $"arn:aws:ecr:{Registry.Region}:{Registry.Account}:repository/{Name}";

    /// <summary>The repository an ECR or ECR Public repository ARN names (the inverse of <see cref="Arn"/>), or null for any other string.</summary>
    public static RepositoryKey? FromArn(string arn)
    {
        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || !parts[1].StartsWith("aws", StringComparison.Ordinal)
            || !AccountId.TryParse(parts[4], out var account)
            || !parts[5].StartsWith("repository/", StringComparison.Ordinal) || !RepositoryName.TryParse(parts[5]["repository/".Length..], out var name))
        {
            return null;
        }

        return parts[2] switch
        {
            "ecr" when parts[3].Length > 0 && parts[3] != RegistryKey.PublicRegion => new RepositoryKey(new RegistryKey(account, parts[3]), name),
            "ecr-public" when parts[3].Length == 0 => new RepositoryKey(RegistryKey.Public(account), name),
            _ => null,
        };
    }

    public override string ToString() => $"{Registry}/{Name}";
}
