using Wharf.Core.Primitives;

namespace Wharf.Core.Security;

/// <summary>Who is calling. In <c>open</c> mode every caller is the default account's root.</summary>
public sealed record Caller(AccountId Account, string PrincipalArn, bool IsAnonymous)
{
    /// <summary>The client's address (<c>aws:SourceIp</c>), when known.</summary>
    public string? SourceIp { get; init; }

    /// <summary>Whether the request came over TLS (<c>aws:SecureTransport</c>).</summary>
    public bool SecureTransport { get; init; }

    /// <summary>IAM's unique id of the caller (<c>aws:userid</c>: <c>AIDA…</c>, or <c>AROA…:session</c> for a role session), when known.</summary>
    public string? UserId { get; init; }

    /// <summary>The access key id that signed the request (<c>AKIA…</c>, or <c>ASIA…</c> for temporary credentials), when known.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>When the caller's credentials end (temporary credentials), if they do.</summary>
    public DateTimeOffset? CredentialsExpireAt { get; init; }

    /// <summary>
    /// The authorization generation the request read before it authenticated the caller (IAM mode's <c>/v2</c>), so that
    /// its authorization reuses it instead of reading it again; null when not read.
    /// </summary>
    public long? AuthorizationGeneration { get; init; }

    public bool IsRoot => PrincipalArn == $"arn:aws:iam::{Account}:root";

    /// <summary>The IAM entity whose identity policies apply: the role for a role session, else the principal.</summary>
    public string IdentityArn => Identity.RoleSession.IdentityArnOf(PrincipalArn);

    public bool IsRoleSession => IdentityArn != PrincipalArn;

    public static Caller Root(AccountId account) => new(account, $"arn:aws:iam::{account}:root", false);
}

/// <summary>The IAM action names ECR uses; each /v2 operation maps to one (ECR-NOTES §2.3).</summary>
public static class EcrActions
{
    public const string BatchGetImage = "ecr:BatchGetImage";
    public const string GetDownloadUrlForLayer = "ecr:GetDownloadUrlForLayer";
    public const string BatchCheckLayerAvailability = "ecr:BatchCheckLayerAvailability";
    public const string InitiateLayerUpload = "ecr:InitiateLayerUpload";
    public const string UploadLayerPart = "ecr:UploadLayerPart";
    public const string CompleteLayerUpload = "ecr:CompleteLayerUpload";
    public const string PutImage = "ecr:PutImage";
    public const string BatchDeleteImage = "ecr:BatchDeleteImage";
    public const string ListImages = "ecr:ListImages";
    public const string DescribeRepositories = "ecr:DescribeRepositories";
    public const string CreateRepository = "ecr:CreateRepository";
    public const string DeleteRepository = "ecr:DeleteRepository";
    public const string DescribeImages = "ecr:DescribeImages";
    public const string DescribeRegistry = "ecr:DescribeRegistry";
    public const string GetAuthorizationToken = "ecr:GetAuthorizationToken";
    public const string SetRepositoryPolicy = "ecr:SetRepositoryPolicy";
    public const string GetRepositoryPolicy = "ecr:GetRepositoryPolicy";
    public const string DeleteRepositoryPolicy = "ecr:DeleteRepositoryPolicy";
    public const string PutRegistryPolicy = "ecr:PutRegistryPolicy";
    public const string GetRegistryPolicy = "ecr:GetRegistryPolicy";
    public const string DeleteRegistryPolicy = "ecr:DeleteRegistryPolicy";
    public const string GetAccountSetting = "ecr:GetAccountSetting";
    public const string PutAccountSetting = "ecr:PutAccountSetting";
    public const string PutImageTagMutability = "ecr:PutImageTagMutability";
    public const string PutImageScanningConfiguration = "ecr:PutImageScanningConfiguration";
    public const string TagResource = "ecr:TagResource";
    public const string UntagResource = "ecr:UntagResource";
    public const string ListTagsForResource = "ecr:ListTagsForResource";
    public const string PutLifecyclePolicy = "ecr:PutLifecyclePolicy";
    public const string GetLifecyclePolicy = "ecr:GetLifecyclePolicy";
    public const string DeleteLifecyclePolicy = "ecr:DeleteLifecyclePolicy";
    public const string StartLifecyclePolicyPreview = "ecr:StartLifecyclePolicyPreview";
    public const string GetLifecyclePolicyPreview = "ecr:GetLifecyclePolicyPreview";
    public const string UpdateImageStorageClass = "ecr:UpdateImageStorageClass";
    public const string PutRegistryScanningConfiguration = "ecr:PutRegistryScanningConfiguration";
    public const string GetRegistryScanningConfiguration = "ecr:GetRegistryScanningConfiguration";
    public const string BatchGetRepositoryScanningConfiguration = "ecr:BatchGetRepositoryScanningConfiguration";
    public const string StartImageScan = "ecr:StartImageScan";
    public const string DescribeImageScanFindings = "ecr:DescribeImageScanFindings";
    public const string RegisterPullTimeUpdateExclusion = "ecr:RegisterPullTimeUpdateExclusion";
    public const string DeregisterPullTimeUpdateExclusion = "ecr:DeregisterPullTimeUpdateExclusion";
    public const string ListPullTimeUpdateExclusions = "ecr:ListPullTimeUpdateExclusions";
    public const string PutReplicationConfiguration = "ecr:PutReplicationConfiguration";
    public const string DescribeImageReplicationStatus = "ecr:DescribeImageReplicationStatus";

    /// <summary>What a destination registry's policy grants a source account for cross-account replication.</summary>
    public const string ReplicateImage = "ecr:ReplicateImage";
    public const string CreateRepositoryCreationTemplate = "ecr:CreateRepositoryCreationTemplate";
    public const string DescribeRepositoryCreationTemplates = "ecr:DescribeRepositoryCreationTemplates";
    public const string UpdateRepositoryCreationTemplate = "ecr:UpdateRepositoryCreationTemplate";
    public const string DeleteRepositoryCreationTemplate = "ecr:DeleteRepositoryCreationTemplate";

    /// <summary>What a pull through a cache rule needs beside <c>ecr:CreateRepository</c> (first pull) and the pull's own actions.</summary>
    public const string BatchImportUpstreamImage = "ecr:BatchImportUpstreamImage";
    public const string CreatePullThroughCacheRule = "ecr:CreatePullThroughCacheRule";
    public const string DescribePullThroughCacheRules = "ecr:DescribePullThroughCacheRules";
    public const string UpdatePullThroughCacheRule = "ecr:UpdatePullThroughCacheRule";
    public const string DeletePullThroughCacheRule = "ecr:DeletePullThroughCacheRule";
    public const string ValidatePullThroughCacheRule = "ecr:ValidatePullThroughCacheRule";
}

/// <summary>
/// ECR Public's IAM actions (service prefix <c>ecr-public</c>). Core services name ECR's actions; on a
/// public repository (an <c>arn:aws:ecr-public:</c> resource) the authorizer asks for the same action
/// under <c>ecr-public:</c> (<see cref="ForResource"/>). The constants are the operations ECR lacks.
/// </summary>
public static class EcrPublicActions
{
    public const string Prefix = "ecr-public:";
    public const string GetAuthorizationToken = "ecr-public:GetAuthorizationToken";
    public const string DescribeImageTags = "ecr-public:DescribeImageTags";
    public const string DescribeRegistries = "ecr-public:DescribeRegistries";
    public const string GetRegistryCatalogData = "ecr-public:GetRegistryCatalogData";
    public const string PutRegistryCatalogData = "ecr-public:PutRegistryCatalogData";
    public const string GetRepositoryCatalogData = "ecr-public:GetRepositoryCatalogData";
    public const string PutRepositoryCatalogData = "ecr-public:PutRepositoryCatalogData";

    /// <summary>What <c>GetAuthorizationToken</c> of ECR Public also needs (AWS's managed policies grant it beside it).</summary>
    public const string GetServiceBearerToken = "sts:GetServiceBearerToken";

    private const string PublicArnPrefix = "arn:aws:ecr-public:";

    /// <summary><paramref name="action"/> as asked of <paramref name="resourceArn"/>: <c>ecr:X</c> becomes <c>ecr-public:X</c> on an ECR Public resource.</summary>
    public static string ForResource(string action, string resourceArn) =>
        resourceArn.StartsWith(PublicArnPrefix, StringComparison.Ordinal) && action.StartsWith("ecr:", StringComparison.Ordinal)
            ? Prefix + action["ecr:".Length..]
            : action;

    /// <summary>
    /// The /v2 reads of a public repository, allowed to everyone, anonymous callers included: manifests,
    /// blobs (and their existence) and tag lists. Not the API's descriptions (they need <c>ecr-public:</c> permissions, as in AWS).
    /// </summary>
    public static bool IsEveryonesRead(string action, string resourceArn) =>
        action is EcrActions.BatchGetImage or EcrActions.GetDownloadUrlForLayer or EcrActions.BatchCheckLayerAvailability or EcrActions.ListImages
        && resourceArn.StartsWith(PublicArnPrefix, StringComparison.Ordinal)
        && RepositoryKey.FromArn(resourceArn) is not null;
}

/// <summary>The Secrets Manager actions of the secrets API (IAM action names, governed by identity policies on secret ARNs).</summary>
public static class SecretsManagerActions
{
    public const string CreateSecret = "secretsmanager:CreateSecret";
    public const string GetSecretValue = "secretsmanager:GetSecretValue";
    public const string PutSecretValue = "secretsmanager:PutSecretValue";
    public const string UpdateSecret = "secretsmanager:UpdateSecret";
    public const string DescribeSecret = "secretsmanager:DescribeSecret";
    public const string ListSecrets = "secretsmanager:ListSecrets";
    public const string DeleteSecret = "secretsmanager:DeleteSecret";
    public const string RestoreSecret = "secretsmanager:RestoreSecret";
    public const string TagResource = "secretsmanager:TagResource";
    public const string UntagResource = "secretsmanager:UntagResource";
}

/// <summary>
/// The one authorisation seam: every service operation asks it before acting. The identity issue
/// replaces the registration; endpoints never change.
/// </summary>
public interface IAccessAuthorizer
{
    /// <summary>
    /// Throws <see cref="Errors.WharfException"/> with <see cref="Errors.WharfErrorCode.Denied"/> when
    /// <paramref name="caller"/> may not perform <paramref name="action"/> on <paramref name="resourceArn"/>
    /// (a repository ARN, or the registry's <c>arn:aws:ecr:region:account:repository/*</c> for listings).
    /// </summary>
    ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken);

    /// <summary>
    /// As above, for a request that carries tags (<c>CreateRepository</c>, <c>TagResource</c>) or names
    /// tag keys (<c>UntagResource</c>): they are the <c>aws:RequestTag/…</c> and <c>aws:TagKeys</c> keys.
    /// </summary>
    ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, RequestTags tags, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, cancellationToken);

    /// <summary>
    /// As above, for an operation on <paramref name="registry"/> as a whole rather than on one repository
    /// (<c>DescribeRegistry</c>, listing repositories, the registry's settings): the registry's policy
    /// applies to it as to a repository's operations.
    /// </summary>
    ValueTask AuthorizeAsync(Caller caller, RegistryKey registry, string action, string resourceArn, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, cancellationToken);

    /// <summary>
    /// As above, for a KMS key: its key policy must allow (the default key policy allows the account, which
    /// delegates to IAM), as KMS evaluates it, with the request's <c>kms:</c> condition keys; a grant that allows the
    /// operation allows it unless a policy denies it explicitly.
    /// </summary>
    ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, KeyPolicyContext key, CancellationToken cancellationToken) =>
        AuthorizeAsync(caller, action, resourceArn, cancellationToken);
}

/// <summary>
/// What a KMS key's authorisation needs beside the caller and action: the key's account, its key policy (which must
/// allow), the request's condition keys (<c>kms:ViaService</c>, <c>kms:CallerAccount</c>, <c>kms:EncryptionContext:…</c>),
/// and whether a grant allows the operation.
/// </summary>
public sealed record KeyPolicyContext(AccountId Account, string Policy, IReadOnlyDictionary<string, IReadOnlyList<string>> Keys, bool GrantAllows);

/// <summary>The KMS actions of the key service (IAM action names, decided by key policies with identity policies and grants).</summary>
public static class KmsActions
{
    public const string Prefix = "kms:";
    public const string CreateKey = "kms:CreateKey";
    public const string ListKeys = "kms:ListKeys";
    public const string ListAliases = "kms:ListAliases";
    public const string Decrypt = "kms:Decrypt";
    public const string GenerateDataKey = "kms:GenerateDataKey";
    public const string DescribeKey = "kms:DescribeKey";
    public const string CreateGrant = "kms:CreateGrant";
}

/// <summary>The tags a request sets (<c>aws:RequestTag/…</c>) and the tag keys it names (<c>aws:TagKeys</c>).</summary>
public sealed record RequestTags(IReadOnlyList<Metadata.ResourceTag> Tags, IReadOnlyList<string> Keys)
{
    // Most authorisations carry no tags: one shared value instead of a LINQ pass and two lists per request.
    private static readonly RequestTags None = new([], []);

    public static RequestTags Setting(IReadOnlyList<Metadata.ResourceTag> tags) =>
        tags.Count == 0 ? None : new(tags, tags.Select(t => t.Key).ToList());

    public static RequestTags Naming(IReadOnlyList<string> keys) => new([], keys);
}

/// <summary><c>open</c> mode: local development only, everything is allowed.</summary>
public sealed class OpenAccessAuthorizer : IAccessAuthorizer
{
    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken) =>
        ValueTask.CompletedTask;
}
