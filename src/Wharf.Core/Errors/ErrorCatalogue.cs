using System.Collections.Frozen;

namespace Wharf.Core.Errors;

/// <summary>One code's wire shapes (distribution <c>registry/api/errcode/register.go</c> is the model).</summary>
/// <param name="Code">The code.</param>
/// <param name="OciCode">The distribution-spec error code written on /v2.</param>
/// <param name="OciStatus">The HTTP status on /v2.</param>
/// <param name="AwsType">The <c>__type</c> written on the AWS JSON API.</param>
/// <param name="AwsStatus">The HTTP status on the AWS JSON API.</param>
/// <param name="DefaultMessage">The message used when the thrower gives none.</param>
public sealed record ErrorDescriptor(
    WharfErrorCode Code,
    string OciCode,
    int OciStatus,
    string AwsType,
    int AwsStatus,
    string DefaultMessage)
{
    /// <summary>
    /// The <c>Code</c> written in the IAM and STS Query APIs' XML errors: the AWS type unless the row
    /// says otherwise (the Query APIs name the authentication and authorisation failures their own way).
    /// </summary>
    public string QueryCode { get; init; } = AwsType;

    /// <summary>The HTTP status on the Query APIs: the AWS status unless the row says otherwise.</summary>
    public int QueryStatus { get; init; } = AwsStatus;
}

/// <summary>The single table of error shapes. Statuses are never chosen at call sites.</summary>
public static class ErrorCatalogue
{
    private static readonly FrozenDictionary<WharfErrorCode, ErrorDescriptor> Rows = new ErrorDescriptor[]
    {
        new(WharfErrorCode.BlobUnknown, "BLOB_UNKNOWN", 404, "LayersNotFoundException", 400, "blob unknown to registry"),
        new(WharfErrorCode.BlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400, "InvalidLayerException", 400, "blob upload invalid"),
        new(WharfErrorCode.BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404, "UploadNotFoundException", 400, "blob upload unknown to registry"),
        new(WharfErrorCode.DigestInvalid, "DIGEST_INVALID", 400, "InvalidLayerException", 400, "provided digest did not match uploaded content"),
        new(WharfErrorCode.ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 400, "LayersNotFoundException", 400, "manifest references a manifest or blob unknown to registry"),
        new(WharfErrorCode.ManifestInvalid, "MANIFEST_INVALID", 400, "InvalidParameterException", 400, "manifest invalid"),
        new(WharfErrorCode.ManifestUnknown, "MANIFEST_UNKNOWN", 404, "ImageNotFoundException", 400, "Requested image not found"),
        new(WharfErrorCode.ManifestTooLarge, "MANIFEST_INVALID", 413, "InvalidParameterException", 400, "manifest exceeds the maximum size of 4194304 bytes"),
        new(WharfErrorCode.ManifestReferenced, "DENIED", 409, "InvalidParameterException", 400, "the manifest is referenced by an index in this repository; delete the index first"),
        new(WharfErrorCode.NameInvalid, "NAME_INVALID", 400, "InvalidParameterException", 400, "invalid repository name"),
        new(WharfErrorCode.NameUnknown, "NAME_UNKNOWN", 404, "RepositoryNotFoundException", 400, "repository name not known to registry"),
        new(WharfErrorCode.SizeInvalid, "SIZE_INVALID", 400, "InvalidParameterException", 400, "provided length did not match content length"),
        new(WharfErrorCode.RangeNotSatisfiable, "BLOB_UNKNOWN", 416, "InvalidParameterException", 400, "requested range not satisfiable"),
        new(WharfErrorCode.UploadRangeInvalid, "BLOB_UPLOAD_INVALID", 416, "InvalidLayerPartException", 400, "chunk does not start at the end of the upload"),
        new(WharfErrorCode.TagInvalid, "TAG_INVALID", 400, "ImageTagAlreadyExistsException", 400, "manifest tag did not match URI"),
        new(WharfErrorCode.Unauthorized, "UNAUTHORIZED", 401, "UnrecognizedClientException", 400, "authentication required"),
        new(WharfErrorCode.Denied, "DENIED", 403, "AccessDeniedException", 400, "requested access to the resource is denied") { QueryCode = "AccessDenied", QueryStatus = 403 },
        new(WharfErrorCode.Unsupported, "UNSUPPORTED", 415, "InvalidParameterException", 400, "the operation is unsupported"),
        new(WharfErrorCode.MethodNotAllowed, "UNSUPPORTED", 405, "InvalidParameterException", 400, "the operation is unsupported"),
        new(WharfErrorCode.TooManyRequests, "TOOMANYREQUESTS", 429, "ThrottlingException", 400, "Rate exceeded") { QueryCode = "Throttling" },
        new(WharfErrorCode.PaginationInvalid, "PAGINATION_NUMBER_INVALID", 400, "InvalidParameterException", 400, "invalid number of results requested"),
        new(WharfErrorCode.RouteUnknown, "NOT_FOUND", 404, "UnknownOperationException", 404, "no such route in the registry API"),
        new(WharfErrorCode.TagImmutable, "TAG_INVALID", 400, "ImageTagAlreadyExistsException", 400, "The specified image is tagged with a tag that already exists. The repository is configured for tag immutability."),
        new(WharfErrorCode.RepositoryAlreadyExists, "DENIED", 409, "RepositoryAlreadyExistsException", 400, "The specified repository already exists in the specified registry."),
        new(WharfErrorCode.RepositoryNotEmpty, "DENIED", 409, "RepositoryNotEmptyException", 400, "The specified repository contains images. To delete a repository that contains images, you must force the deletion with the force parameter."),
        new(WharfErrorCode.ImageNotFound, "MANIFEST_UNKNOWN", 404, "ImageNotFoundException", 400, "The image requested does not exist in the specified repository."),
        new(WharfErrorCode.ImageAlreadyExists, "MANIFEST_INVALID", 400, "ImageAlreadyExistsException", 400, "The specified image has already been pushed, and there were no changes to the manifest or image tag after the last push."),
        new(WharfErrorCode.ImageDigestDoesNotMatch, "DIGEST_INVALID", 400, "ImageDigestDoesNotMatchException", 400, "The specified image digest does not match the digest that Amazon ECR calculated for the image."),
        new(WharfErrorCode.ReferencedImagesNotFound, "MANIFEST_UNKNOWN", 404, "ReferencedImagesNotFoundException", 400, "The manifest list is referencing an image that does not exist."),
        new(WharfErrorCode.LayersNotFound, "BLOB_UNKNOWN", 404, "LayersNotFoundException", 400, "The specified layers could not be found, or the specified layer is not valid for this repository."),
        new(WharfErrorCode.LayerAlreadyExists, "BLOB_UPLOAD_INVALID", 400, "LayerAlreadyExistsException", 400, "The image layer already exists in the associated repository."),
        new(WharfErrorCode.LayerInaccessible, "BLOB_UNKNOWN", 404, "LayerInaccessibleException", 400, "The specified layer is not available because it is not associated with an image. Unassociated image layers may be cleaned up at any time."),
        new(WharfErrorCode.EmptyUpload, "BLOB_UPLOAD_INVALID", 400, "EmptyUploadException", 400, "The specified layer upload does not contain any layer parts."),
        new(WharfErrorCode.InvalidLayerPart, "BLOB_UPLOAD_INVALID", 416, "InvalidLayerPartException", 400, "The layer part size is not valid, or the first byte specified is not consecutive to the last byte of a previous layer part upload."),
        new(WharfErrorCode.InvalidParameter, "UNSUPPORTED", 400, "InvalidParameterException", 400, "The specified parameter is invalid."),
        new(WharfErrorCode.Validation, "UNSUPPORTED", 400, "ValidationException", 400, "There was an exception validating this request."),
        new(WharfErrorCode.InvalidTagParameter, "UNSUPPORTED", 400, "InvalidTagParameterException", 400, "An invalid parameter has been specified. Tag keys can have a maximum character length of 128 characters, and tag values can have a maximum length of 256 characters."),
        new(WharfErrorCode.TooManyTags, "UNSUPPORTED", 400, "TooManyTagsException", 400, "The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50."),
        new(WharfErrorCode.Serialization, "UNSUPPORTED", 400, "SerializationException", 400, "The request body could not be read as JSON."),
        new(WharfErrorCode.IncompleteSignature, "UNAUTHORIZED", 401, "IncompleteSignatureException", 400, "The request signature does not conform to AWS standards.") { QueryCode = "IncompleteSignature" },
        new(WharfErrorCode.UnknownOperation, "NOT_FOUND", 404, "UnknownOperationException", 400, "The requested operation is not known to this service."),
        new(WharfErrorCode.UnsupportedOperation, "UNSUPPORTED", 405, "UnsupportedOperationException", 400, "The operation is not supported by this Wharf version."),
        // A body over its route's limit; /v2 limits only manifest bodies, so there it is distribution's manifest error.
        new(WharfErrorCode.RequestTooLarge, "MANIFEST_INVALID", 413, "RequestEntityTooLargeException", 413, "The request body is too large."),
        new(WharfErrorCode.MissingAuthenticationToken, "UNAUTHORIZED", 401, "MissingAuthenticationTokenException", 403, "Missing Authentication Token") { QueryCode = "MissingAuthenticationToken" },
        new(WharfErrorCode.UnrecognizedClient, "UNAUTHORIZED", 401, "UnrecognizedClientException", 400, "The security token included in the request is invalid.") { QueryCode = "InvalidClientTokenId", QueryStatus = 403 },
        new(WharfErrorCode.InvalidSignature, "UNAUTHORIZED", 401, "InvalidSignatureException", 400, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.") { QueryCode = "SignatureDoesNotMatch", QueryStatus = 403 },
        new(WharfErrorCode.TokenExpired, "DENIED", 403, "ExpiredTokenException", 400, "Your authorization token has expired. Reauthenticate and try again.") { QueryCode = "ExpiredToken" },
        new(WharfErrorCode.RepositoryPolicyNotFound, "NOT_FOUND", 404, "RepositoryPolicyNotFoundException", 400, "The specified repository and registry combination does not have an associated repository policy."),
        new(WharfErrorCode.LifecyclePolicyNotFound, "NOT_FOUND", 404, "LifecyclePolicyNotFoundException", 400, "The lifecycle policy could not be found, and no policy is set to the repository."),
        new(WharfErrorCode.LifecyclePolicyPreviewNotFound, "NOT_FOUND", 404, "LifecyclePolicyPreviewNotFoundException", 400, "There is no dry run for this repository."),
        new(WharfErrorCode.LifecyclePolicyPreviewInProgress, "DENIED", 409, "LifecyclePolicyPreviewInProgressException", 400, "The previous lifecycle policy preview request has not completed. Wait and try again."),
        new(WharfErrorCode.ImageStorageClassUpdateNotSupported, "UNSUPPORTED", 400, "ImageStorageClassUpdateNotSupportedException", 400, "The requested storage class update is not supported for this image."),
        new(WharfErrorCode.ScanNotFound, "NOT_FOUND", 404, "ScanNotFoundException", 400, "The specified image scan could not be found. Ensure that image scanning is enabled on the repository and try again."),
        new(WharfErrorCode.ScanLimitExceeded, "TOOMANYREQUESTS", 429, "LimitExceededException", 400, "The operation did not succeed because it would have exceeded a service limit for your account."),
        new(WharfErrorCode.ImageArchived, "MANIFEST_UNKNOWN", 404, "ImageArchivedException", 400, "The specified image is archived and cannot be scanned."),
        new(WharfErrorCode.UnsupportedImageType, "UNSUPPORTED", 400, "UnsupportedImageTypeException", 400, "The image is of a type that cannot be scanned."),
        new(WharfErrorCode.RegistryPolicyNotFound, "NOT_FOUND", 404, "RegistryPolicyNotFoundException", 400, "The registry doesn't have an associated registry policy."),
        new(WharfErrorCode.NoSuchEntity, "NOT_FOUND", 404, "NoSuchEntity", 404, "The request was rejected because it referenced a resource entity that does not exist."),
        new(WharfErrorCode.EntityAlreadyExists, "DENIED", 409, "EntityAlreadyExists", 409, "The request was rejected because it attempted to create a resource that already exists."),
        new(WharfErrorCode.DeleteConflict, "DENIED", 409, "DeleteConflict", 409, "The request was rejected because it attempted to delete a resource that has attached subordinate entities."),
        new(WharfErrorCode.IamLimitExceeded, "DENIED", 409, "LimitExceeded", 409, "The request was rejected because it attempted to create resources beyond the current AWS account limits."),
        new(WharfErrorCode.MalformedPolicyDocument, "UNSUPPORTED", 400, "MalformedPolicyDocument", 400, "The request was rejected because the policy document was malformed."),
        new(WharfErrorCode.IamValidation, "UNSUPPORTED", 400, "ValidationError", 400, "The request did not satisfy a constraint of the API."),
        new(WharfErrorCode.IamInvalidInput, "UNSUPPORTED", 400, "InvalidInput", 400, "The request was rejected because an invalid or out-of-range value was supplied for an input parameter."),
        new(WharfErrorCode.Unavailable, "UNAVAILABLE", 503, "ServerException", 500, "service temporarily unavailable, retry"),
        new(WharfErrorCode.Internal, "UNKNOWN", 500, "ServerException", 500, "internal server error") { QueryCode = "ServiceFailure" },
        new(WharfErrorCode.ExclusionAlreadyExists, "UNSUPPORTED", 400, "ExclusionAlreadyExistsException", 400, "The specified pull time update exclusion already exists for the registry."),
        new(WharfErrorCode.ExclusionNotFound, "NOT_FOUND", 404, "ExclusionNotFoundException", 400, "The specified pull time update exclusion was not found."),
        new(WharfErrorCode.ExclusionLimitExceeded, "DENIED", 403, "LimitExceededException", 400, "The operation did not succeed because it would have exceeded a service limit for your account."),
        new(WharfErrorCode.RequestBodyUnreadable, "SIZE_INVALID", 400, "SerializationException", 400, "The request body could not be read.") { QueryCode = "ValidationError" },
        new(WharfErrorCode.TemplateAlreadyExists, "UNSUPPORTED", 400, "TemplateAlreadyExistsException", 400, "The repository creation template already exists. Specify a unique prefix and try again."),
        new(WharfErrorCode.TemplateNotFound, "NOT_FOUND", 404, "TemplateNotFoundException", 400, "The specified repository creation template can't be found. Verify the registry ID and prefix and try again."),
        new(WharfErrorCode.TemplateLimitExceeded, "DENIED", 403, "LimitExceededException", 400, "The operation did not succeed because it would have exceeded a service limit for your account."),
        // Pull-through cache rules: botocore's exception documentation.
        new(WharfErrorCode.PullThroughCacheRuleAlreadyExists, "UNSUPPORTED", 400, "PullThroughCacheRuleAlreadyExistsException", 400, "A pull through cache rule with these settings already exists for the private registry."),
        new(WharfErrorCode.PullThroughCacheRuleNotFound, "NOT_FOUND", 404, "PullThroughCacheRuleNotFoundException", 400, "The pull through cache rule was not found. Specify a valid pull through cache rule and try again."),
        new(WharfErrorCode.PullThroughCacheRuleLimitExceeded, "DENIED", 403, "LimitExceededException", 400, "The operation did not succeed because it would have exceeded a service limit for your account."),
        new(WharfErrorCode.UnsupportedUpstreamRegistry, "UNSUPPORTED", 400, "UnsupportedUpstreamRegistryException", 400, "The specified upstream registry isn't supported."),
        new(WharfErrorCode.SecretNotFound, "DENIED", 403, "SecretNotFoundException", 400, "The ARN of the secret specified in the pull through cache rule was not found. Update the pull through cache rule with a valid secret ARN and try again."),
        new(WharfErrorCode.UnableToAccessSecret, "DENIED", 403, "UnableToAccessSecretException", 400, "The secret is unable to be accessed. Verify the resource permissions for the secret and try again."),
        new(WharfErrorCode.UnableToDecryptSecretValue, "DENIED", 403, "UnableToDecryptSecretValueException", 400, "The secret is accessible but is unable to be decrypted. Verify the resource permisisons and try again."),
        // A pull through the cache that the upstream could not serve and the cache could not either. On /v2
        // the client sees why (503, 429, 403); the API answers ECR's UnableToGetUpstream*Exception.
        new(WharfErrorCode.UpstreamUnavailable, "UNAVAILABLE", 503, "UnableToGetUpstreamImageException", 400, "The image or images were unable to be pulled using the pull through cache rule: the upstream registry is unavailable."),
        new(WharfErrorCode.UpstreamTooManyRequests, "TOOMANYREQUESTS", 429, "UnableToGetUpstreamImageException", 400, "The image or images were unable to be pulled using the pull through cache rule: the upstream registry is limiting requests."),
        new(WharfErrorCode.UpstreamAccessDenied, "DENIED", 403, "UnableToGetUpstreamImageException", 400, "The image or images were unable to be pulled using the pull through cache rule: the upstream registry refused the rule's credentials."),
        new(WharfErrorCode.UpstreamLayerUnavailable, "UNAVAILABLE", 503, "UnableToGetUpstreamLayerException", 400, "There was an issue getting the upstream layer matching the pull through cache rule."),
        // Secrets Manager's own exceptions (botocore secretsmanager model).
        new(WharfErrorCode.SecretsResourceNotFound, "NOT_FOUND", 404, "ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret."),
        new(WharfErrorCode.SecretsResourceExists, "DENIED", 409, "ResourceExistsException", 400, "A resource with the ID you requested already exists."),
        new(WharfErrorCode.SecretsInvalidRequest, "UNSUPPORTED", 400, "InvalidRequestException", 400, "A parameter value is not valid for the current state of the resource."),
        new(WharfErrorCode.SecretsLimitExceeded, "DENIED", 403, "LimitExceededException", 400, "The request failed because it would exceed one of the Secrets Manager quotas."),
        new(WharfErrorCode.SecretsDecryptionFailure, "DENIED", 403, "DecryptionFailure", 400, "Secrets Manager can't decrypt the protected secret text using the provided KMS key."),
        new(WharfErrorCode.SecretsInvalidNextToken, "UNSUPPORTED", 400, "InvalidNextTokenException", 400, "The NextToken value is invalid."),

        // CloudTrail's LookupEvents (the audit trail; botocore cloudtrail model).
        new(WharfErrorCode.CloudTrailInvalidLookupAttributes, "UNSUPPORTED", 400, "InvalidLookupAttributesException", 400, "Occurs when a lookup attribute is specified that is not valid."),
        new(WharfErrorCode.CloudTrailInvalidTimeRange, "UNSUPPORTED", 400, "InvalidTimeRangeException", 400, "Occurs if the timestamp values are not valid."),
        new(WharfErrorCode.CloudTrailInvalidNextToken, "UNSUPPORTED", 400, "InvalidNextTokenException", 400, "A token that is not valid, or a token that was previously used in a request with different parameters."),
        new(WharfErrorCode.CloudTrailInvalidMaxResults, "UNSUPPORTED", 400, "InvalidMaxResultsException", 400, "This exception is thrown if the limit specified is not valid."),
        // ECR Public's own exceptions (botocore ecr-public model) and the public address's refusals.
        new(WharfErrorCode.RegistryNotFound, "NAME_UNKNOWN", 404, "RegistryNotFoundException", 400, "The registry doesn't exist."),
        new(WharfErrorCode.RepositoryCatalogDataNotFound, "NOT_FOUND", 404, "RepositoryCatalogDataNotFoundException", 400, "The repository catalog data doesn't exist."),
        new(WharfErrorCode.UnsupportedCommand, "UNSUPPORTED", 400, "UnsupportedCommandException", 400, "The action isn't supported in this Region."),
        new(WharfErrorCode.RegistryAliasTaken, "DENIED", 409, "InvalidParameterException", 400, "The registry alias is already in use by another registry."),
        new(WharfErrorCode.PublicDataLimitExceeded, "TOOMANYREQUESTS", 429, "ThrottlingException", 400, "Data limit exceeded"),
        // ECR Public answers a bearer token it cannot read with 400, not 401 (ECR-NOTES §8).
        new(WharfErrorCode.BearerTokenInvalid, "DENIED", 400, "AccessDeniedException", 400, "Your Authorization Token is invalid."),
        new(WharfErrorCode.PasswordPolicyViolation, "DENIED", 400, "PasswordPolicyViolation", 400, "The provided password doesn't meet the password policy requirements."),
        // The KMS-compatible key service (botocore kms model). On /v2 a key that cannot be used refuses the pull or push.
        new(WharfErrorCode.KmsNotFound, "DENIED", 403, "NotFoundException", 400, "The request was rejected because the specified entity or resource could not be found."),
        new(WharfErrorCode.KmsDisabled, "DENIED", 403, "DisabledException", 400, "The request was rejected because the specified KMS key is not enabled."),
        new(WharfErrorCode.KmsInvalidState, "DENIED", 403, "KMSInvalidStateException", 400, "The request was rejected because the state of the specified resource is not valid for this request."),
        new(WharfErrorCode.KmsInvalidCiphertext, "DENIED", 403, "InvalidCiphertextException", 400, "The request was rejected because the specified ciphertext, or additional authenticated data incorporated into the ciphertext, such as the encryption context, is corrupted, missing, or otherwise invalid."),
        new(WharfErrorCode.KmsIncorrectKey, "DENIED", 403, "IncorrectKeyException", 400, "The request was rejected because the specified KMS key cannot decrypt the data. The KeyId in a Decrypt request must identify the same KMS key that was used to encrypt the ciphertext."),
        new(WharfErrorCode.KmsAlreadyExists, "DENIED", 409, "AlreadyExistsException", 400, "The request was rejected because it attempted to create a resource that already exists."),
        new(WharfErrorCode.KmsInvalidAliasName, "UNSUPPORTED", 400, "InvalidAliasNameException", 400, "The request was rejected because the specified alias name is not valid."),
        new(WharfErrorCode.KmsMalformedPolicyDocument, "UNSUPPORTED", 400, "MalformedPolicyDocumentException", 400, "The request was rejected because the specified policy is not syntactically or semantically correct."),
        new(WharfErrorCode.KmsInvalidArn, "UNSUPPORTED", 400, "InvalidArnException", 400, "The request was rejected because a specified ARN, or an ARN in a key policy, is not valid."),
        new(WharfErrorCode.KmsInvalidGrantToken, "UNSUPPORTED", 400, "InvalidGrantTokenException", 400, "The request was rejected because the specified grant token is not valid."),
        new(WharfErrorCode.KmsInvalidGrantId, "UNSUPPORTED", 400, "InvalidGrantIdException", 400, "The request was rejected because the specified GrantId is not valid."),
        new(WharfErrorCode.KmsInvalidMarker, "UNSUPPORTED", 400, "InvalidMarkerException", 400, "The request was rejected because the marker that specifies where pagination should next begin is not valid."),
        new(WharfErrorCode.KmsLimitExceeded, "DENIED", 403, "LimitExceededException", 400, "The request was rejected because a length constraint or quota was exceeded."),
        new(WharfErrorCode.KmsInvalidKeyUsage, "UNSUPPORTED", 400, "InvalidKeyUsageException", 400, "The request was rejected because the KeyUsage value of the KMS key is incompatible with the API operation."),
        // ECR's KmsException (repositories encrypted with KMS). On /v2 the key's refusal is the caller's to fix or the
        // key owner's (enable it, grant kms:Decrypt): DENIED, which clients do not retry; the detail carries kmsError.
        new(WharfErrorCode.KmsException, "DENIED", 403, "KmsException", 400, "The operation failed due to a KMS exception."),
    }.ToFrozenDictionary(r => r.Code);

    public static ErrorDescriptor Describe(WharfErrorCode code) =>
        Rows.TryGetValue(code, out var row) ? row : throw new KeyNotFoundException($"No catalogue row for {code}.");

    public static IReadOnlyCollection<ErrorDescriptor> All => Rows.Values;
}
