using System.Collections.Frozen;

namespace Wharf.Core.Security.Policies;

/// <summary>
/// The AWS managed policies for ECR (ECR-NOTES §2.5) and for ECR Public, with their action lists, under
/// their real ARNs. Attaching one is the usual way to grant ECR access.
/// </summary>
public static class ManagedPolicies
{
    public const string FullAccess = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess";
    public const string PowerUser = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser";
    public const string ReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    public const string PullOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly";
    public const string PublicFullAccess = "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicFullAccess";
    public const string PublicPowerUser = "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicPowerUser";
    public const string PublicReadOnly = "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly";

    private static readonly string[] ReadOnlyActions =
    [
        "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:GetRepositoryPolicy",
        "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy",
        "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings",
    ];

    // AWS's ECR Public policies (v1, December 2020) grant sts:GetServiceBearerToken beside every
    // GetAuthorizationToken: ECR Public's token needs both. Pulls need no permission (they are everyone's).
    private static readonly string[] PublicReadOnlyActions =
    [
        "ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken", "ecr-public:BatchCheckLayerAvailability", "ecr-public:GetRepositoryPolicy",
        "ecr-public:DescribeRepositories", "ecr-public:DescribeRegistries", "ecr-public:DescribeImages", "ecr-public:DescribeImageTags",
        "ecr-public:GetRepositoryCatalogData", "ecr-public:GetRegistryCatalogData",
    ];

    private static readonly FrozenDictionary<string, string> Texts = new Dictionary<string, string>
    {
        [FullAccess] = Allow(["ecr:*", "cloudtrail:LookupEvents"]),
        [PowerUser] = Allow([.. ReadOnlyActions, "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"]),
        [ReadOnly] = Allow(ReadOnlyActions),
        [PullOnly] = Allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"]),
        [PublicFullAccess] = Allow(["ecr-public:*", "sts:GetServiceBearerToken"]),
        [PublicPowerUser] = Allow([.. PublicReadOnlyActions, "ecr-public:InitiateLayerUpload", "ecr-public:UploadLayerPart", "ecr-public:CompleteLayerUpload", "ecr-public:PutImage"]),
        [PublicReadOnly] = Allow(PublicReadOnlyActions),
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
