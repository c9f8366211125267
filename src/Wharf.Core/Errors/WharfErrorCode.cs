namespace Wharf.Core.Errors;

/// <summary>
/// Every error Wharf reports, once. Each has exactly one row in <see cref="ErrorCatalogue"/> that says
/// how it looks on every wire (OCI JSON on /v2, AWS JSON on the ECR API, AWS XML on the IAM and STS
/// Query APIs); a test checks the rows are complete.
/// </summary>
public enum WharfErrorCode
{
    // Data plane (OCI distribution-spec error codes).
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    ManifestTooLarge,
    ManifestReferenced,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    RangeNotSatisfiable,
    UploadRangeInvalid,
    TagInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    MethodNotAllowed,
    TooManyRequests,
    PaginationInvalid,
    RouteUnknown,

    // The ECR API (AWS JSON 1.1); their OCI rows are what /v2 would say if one surfaced there.
    TagImmutable,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    ImageNotFound,
    ImageAlreadyExists,
    ImageDigestDoesNotMatch,
    ReferencedImagesNotFound,
    LayersNotFound,
    LayerAlreadyExists,
    LayerInaccessible,
    EmptyUpload,
    InvalidLayerPart,
    InvalidParameter,
    Validation,
    InvalidTagParameter,
    TooManyTags,
    Serialization,
    IncompleteSignature,
    UnknownOperation,
    UnsupportedOperation,
    RequestTooLarge,

    // Authentication on the AWS API (AWS's common errors).
    MissingAuthenticationToken,
    UnrecognizedClient,
    InvalidSignature,
    TokenExpired,
    RepositoryPolicyNotFound,
    RegistryPolicyNotFound,
    LifecyclePolicyNotFound,
    LifecyclePolicyPreviewNotFound,
    LifecyclePolicyPreviewInProgress,
    ImageStorageClassUpdateNotSupported,
    ScanNotFound,
    ScanLimitExceeded,
    ImageArchived,
    UnsupportedImageType,

    // The IAM and STS Query APIs.
    NoSuchEntity,
    EntityAlreadyExists,
    DeleteConflict,
    IamLimitExceeded,
    MalformedPolicyDocument,
    IamValidation,
    IamInvalidInput,

    // Faults.
    Unavailable,
    Internal,

    // ECR's pull-time update exclusions.
    ExclusionAlreadyExists,
    ExclusionNotFound,
    ExclusionLimitExceeded,

    // A request body the server could not read (broken framing, shorter than declared, too slow).
    RequestBodyUnreadable,

    // ECR's repository creation templates.
    TemplateAlreadyExists,
    TemplateNotFound,
    TemplateLimitExceeded,

    // ECR's pull-through cache rules (ECR-NOTES §7.2) and pulls through them (§7.3).
    PullThroughCacheRuleAlreadyExists,
    PullThroughCacheRuleNotFound,
    PullThroughCacheRuleLimitExceeded,
    UnsupportedUpstreamRegistry,
    SecretNotFound,
    UnableToAccessSecret,
    UnableToDecryptSecretValue,

    // An upstream that could not give what a pull through the cache asked for (nothing cached to serve instead).
    UpstreamUnavailable,
    UpstreamTooManyRequests,
    UpstreamAccessDenied,
    UpstreamLayerUnavailable,

    // The Secrets Manager-compatible API (its own exception names).
    SecretsResourceNotFound,
    SecretsResourceExists,
    SecretsInvalidRequest,
    SecretsLimitExceeded,
    SecretsDecryptionFailure,
    SecretsInvalidNextToken,

    // ECR Public (ECR-NOTES §8): its own exceptions, the public address's refusals.
    RegistryNotFound,
    RepositoryCatalogDataNotFound,
    UnsupportedCommand,
    RegistryAliasTaken,
    PublicDataLimitExceeded,
    BearerTokenInvalid,

    // IAM login profiles (the console's passwords).
    PasswordPolicyViolation,

    // CloudTrail's LookupEvents (the audit trail): its own exceptions.
    CloudTrailInvalidLookupAttributes,
    CloudTrailInvalidTimeRange,
    CloudTrailInvalidNextToken,
    CloudTrailInvalidMaxResults,

    // The KMS-compatible key service (TrentService): KMS's own exceptions. Data keys of a repository
    // encrypted with a KMS key fail with these too (IKmsDataKeys).
    KmsNotFound,
    KmsDisabled,
    KmsInvalidState,
    KmsInvalidCiphertext,
    KmsIncorrectKey,
    KmsAlreadyExists,
    KmsInvalidAliasName,
    KmsMalformedPolicyDocument,
    KmsInvalidArn,
    KmsInvalidGrantToken,
    KmsInvalidGrantId,
    KmsInvalidMarker,
    KmsLimitExceeded,
    KmsInvalidKeyUsage,

    // ECR's KmsException: a KMS-encrypted repository's key could not be used (its kmsError names KMS's error).
    KmsException,
}
