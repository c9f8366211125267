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

    /// <summary>The repository an ECR repository ARN names (the inverse of <see cref="Arn"/>), or null for any other string.</summary>
    public static RepositoryKey? FromArn(string arn)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[0] == "arn" && parts[1].StartsWith("aws", StringComparison.Ordinal) && parts[2] == "ecr"
            && parts[3].Length > 0 && AccountId.TryParse(parts[4], out var account)
            && parts[5].StartsWith("repository/", StringComparison.Ordinal) && RepositoryName.TryParse(parts[5]["repository/".Length..], out var name)
            ? new RepositoryKey(new RegistryKey(account, parts[3]), name)
            : null;
    }

    public override string ToString() => $"{Registry}/{Name}";
}
