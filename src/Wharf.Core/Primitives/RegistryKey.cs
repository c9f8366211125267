namespace Wharf.Core.Primitives;

/// <summary>A private registry: one per account and region (DESIGN.md "Which registry a request is for").</summary>
public readonly record struct RegistryKey(AccountId Account, string Region)
{
    public override string ToString() => $"{Account}/{Region}";
}

/// <summary>A repository within its registry.</summary>
public sealed record RepositoryKey(RegistryKey Registry, RepositoryName Name)
{
    /// <summary><c>arn:aws:ecr:&lt;region&gt;:&lt;account&gt;:repository/&lt;name&gt;</c>.</summary>
    public string Arn => $"arn:aws:ecr:{Registry.Region}:{Registry.Account}:repository/{Name}";

    public override string ToString() => $"{Registry}/{Name}";
}
