namespace Wharf.Core.Replication;

/// <summary>
/// The failure codes replication reports in <c>DescribeImageReplicationStatus</c> (docs/replication.md,
/// "Statuses and failure codes"). Wharf's own: ECR documents none.
/// </summary>
public static class ReplicationFailureCodes
{
    /// <summary>Cross-account: the destination registry's policy does not allow the source account.</summary>
    public const string NotAuthorized = "REPLICATION_NOT_AUTHORIZED";

    /// <summary>The destination repository's tag immutability refused to move a tag.</summary>
    public const string TagImmutable = "TAG_IMMUTABLE";

    /// <summary>The image (or a child or blob of it) was gone from the source before it was copied.</summary>
    public const string SourceImageNotFound = "SOURCE_IMAGE_NOT_FOUND";

    /// <summary>The destination refused the image for another reason (the reason says which).</summary>
    public const string DestinationRefused = "DESTINATION_REFUSED";

    /// <summary>An unexpected fault (a store outage, say): retried with backoff like an unreachable destination.</summary>
    public const string InternalError = "INTERNAL_ERROR";
}
