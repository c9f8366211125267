using System.Collections.Frozen;

namespace Wharf.Core.Security.Policies;

/// <summary>
/// The AWS managed policies for ECR (ECR-NOTES §2.5), with their action lists, under their real ARNs.
/// Attaching one is the usual way to grant ECR access.
/// </summary>
public static class ManagedPolicies
{
    public const string FullAccess = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess";
    public const string PowerUser = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser";
    public const string ReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    public const string PullOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly";

    private static readonly string[] ReadOnlyActions =
    [
        "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:GetRepositoryPolicy",
        "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy",
        "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings",
    ];

    private static readonly FrozenDictionary<string, string> Texts = new Dictionary<string, string>
    {
        [FullAccess] = Allow(["ecr:*", "cloudtrail:LookupEvents"]),
        [PowerUser] = Allow([.. ReadOnlyActions, "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"]),
        [ReadOnly] = Allow(ReadOnlyActions),
        [PullOnly] = Allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"]),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, PolicyDocument> Documents =
        Texts.ToFrozenDictionary(p => p.Key, p => PolicyDocument.Parse(p.Value, isResourcePolicy: false), StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Arns => Documents.Keys;

    public static PolicyDocument? Find(string arn) => Documents.GetValueOrDefault(arn);

    /// <summary>The policy's document as IAM's <c>GetPolicyVersion</c> shows it, or null for another ARN.</summary>
    public static string? Text(string arn) => Texts.GetValueOrDefault(arn);

    private static string Allow(string[] actions) =>
        $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[{{string.Join(',', actions.Select(a => $"\"{a}\""))}}],"Resource":"*"}]}""";
}
