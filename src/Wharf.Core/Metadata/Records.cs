using Wharf.Core.Events;
using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>A repository row with its settings and repository policy (a JSON policy document, if set).</summary>
public sealed record Repository(long Id, RepositoryKey Key, DateTimeOffset CreatedAt, RepositorySettings Settings, string? Policy = null)
{
    public Repository(long id, RepositoryKey key, DateTimeOffset createdAt)
        : this(id, key, createdAt, RepositorySettings.Default)
    {
    }
}

/// <summary>An AWS resource tag on a repository (not an image tag).</summary>
public sealed record ResourceTag(string Key, string Value);

/// <summary>
/// What a new repository starts with: its settings and resource tags and, when a creation template
/// supplies them, its repository policy and lifecycle policy (validated before they get here).
/// </summary>
/// <remarks>A public repository may start with its catalog data (<c>CreateRepository</c> of ECR Public), written in the same transaction.</remarks>
public sealed record RepositoryCreation(RepositorySettings Settings, IReadOnlyList<ResourceTag> Tags, string? Policy = null, string? LifecyclePolicy = null)
{
    /// <summary>A public repository's catalog data, its logo and its search terms (see <see cref="IPublicRegistryStore.PutCatalogAsync"/>).</summary>
    public (RepositoryCatalog Catalog, CatalogLogo? Logo, IReadOnlyCollection<string> SearchTerms)? PublicCatalog { get; init; }
}

/// <summary>Outcome of <see cref="IRepositoryStore.DeleteIfEmptyAsync"/>.</summary>
public enum RepositoryDeleteResult
{
    Deleted,
    NotFound,

    /// <summary>It still has images (ECR's <c>RepositoryNotEmptyException</c>).</summary>
    NotEmpty,
}

/// <summary>Outcome of <see cref="IRepositoryStore.TagAsync"/>.</summary>
public enum ResourceTagResult
{
    Tagged,
    NotFound,

    /// <summary>The repository would carry more than the limit; nothing was written.</summary>
    TooManyTags,
}

/// <summary>A blob the metadata store knows (its bytes are in the blob store).</summary>
public sealed record BlobRecord(Digest Digest, long Size, DateTimeOffset TouchedAt);

/// <summary>Outcome of <see cref="IBlobIndex.ReserveBlobAsync"/>.</summary>
public enum BlobReservation
{
    /// <summary>The row is live and its touch time is now: GC will leave it alone for a grace window.</summary>
    Reserved,

    /// <summary>GC has claimed the blob and is deleting its bytes; retry once the row is gone.</summary>
    BeingDeleted,
}

/// <summary>A stored manifest (or index): its exact bytes and what was derived from them at push.</summary>
public sealed record ManifestRecord(
    long RepositoryId,
    Digest Digest,
    string MediaType,
    string? ArtifactType,
    Digest? Subject,
    byte[] Content,
    string? AnnotationsJson,
    DateTimeOffset PushedAt,
    bool Archived = false)
{
    public long Size => Content.LongLength;
}

/// <summary>Everything one manifest PUT writes, in one transaction.</summary>
/// <param name="RepositoryId">Target repository.</param>
/// <param name="Digest">Digest of <paramref name="Content"/> (computed by the service).</param>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="ArtifactType">For referrers: <c>artifactType</c>, else the config media type; null for images without one.</param>
/// <param name="Subject">The <c>subject</c> digest, if any (the subject need not exist).</param>
/// <param name="Content">The exact bytes pushed.</param>
/// <param name="AnnotationsJson">The manifest's <c>annotations</c> object as JSON, for the referrers list.</param>
/// <param name="Blobs">Config and layer digests: each must be linked to the repository and live.</param>
/// <param name="Children">Index children: each must be a manifest of this repository.</param>
/// <param name="Tag">The tag to point at this manifest, or null for a push by digest.</param>
/// <param name="Now">The push time.</param>
/// <param name="TagImmutable">The tag may not be moved or re-pushed once it exists (ECR tag immutability).</param>
/// <param name="Event">Recorded in the outbox with the write, when it creates the manifest or moves the tag.</param>
/// <param name="DeclaredSizes">The sizes the manifest's descriptors declare, by digest: a present blob or child of another size fails the write.</param>
/// <param name="Scan">
/// Scan on push: when the write creates the manifest or moves the tag, the image's scan is requested
/// in the same transaction (as <see cref="IScanStore.RequestAsync"/>), so the push answers with a scan
/// status at once, as ECR does; null when the repository does not scan on push.
/// </param>
/// <param name="ScanRule">When <paramref name="Scan"/> is null: decides it from the registry's settings, read inside the write.</param>
/// <param name="Target">
/// When set, the repository is found by its key inside the write, with its first statements (no round trip of its own
/// before it): <paramref name="RepositoryId"/> is then ignored, and <paramref name="TagImmutable"/> and
/// <paramref name="ScanRule"/> are what <see cref="ManifestTarget.Decide"/> makes of the row found.
/// </param>
public sealed record ManifestWrite(
    long RepositoryId,
    Digest Digest,
    string MediaType,
    string? ArtifactType,
    Digest? Subject,
    byte[] Content,
    string? AnnotationsJson,
    IReadOnlyList<Digest> Blobs,
    IReadOnlyList<Digest> Children,
    string? Tag,
    DateTimeOffset Now,
    bool TagImmutable = false,
    OutboxEvent? Event = null,
    IReadOnlyDictionary<Digest, long>? DeclaredSizes = null,
    PushScanRequest? Scan = null,
    PushScanRule? ScanRule = null,
    ManifestTarget? Target = null);

/// <summary>
/// The repository of a <see cref="ManifestWrite"/> named by its key and read inside the write. <paramref name="Decide"/>
/// gives the write's tag immutability and scan rule from the row; it returns null when the write may not go on without
/// a check of its own first (a KMS key's), and nothing is then written (<see cref="PutManifestResult.Undecided"/>).
/// </summary>
public sealed record ManifestTarget(RepositoryKey Key, Func<Repository, ManifestTargetDecision?> Decide);

/// <summary>What a <see cref="ManifestTarget"/> decided of its repository: as <see cref="ManifestWrite.TagImmutable"/> and <see cref="ManifestWrite.ScanRule"/>.</summary>
public sealed record ManifestTargetDecision(bool TagImmutable, PushScanRule? ScanRule);

/// <summary>A descriptor whose declared size is not the size of the blob or manifest it names.</summary>
public sealed record SizeMismatch(Digest Digest, long Declared, long Actual);

/// <summary>A scan requested by a push, unless one was requested at or after <paramref name="LimitStart"/> (ECR's once a day).</summary>
public sealed record PushScanRequest(DateTimeOffset LimitStart);

/// <summary>
/// Decides a push's scan request (in place of <see cref="ManifestWrite.Scan"/>) from the settings of
/// <paramref name="Registry"/> (<see cref="IRepositoryStore.GetRegistrySettingsAsync"/>), which the store reads inside
/// the write: with its other first statements, not in a round trip of its own before it.
/// </summary>
public sealed record PushScanRule(RegistryKey Registry, Func<IReadOnlyDictionary<string, string>, PushScanRequest?> Decide);

/// <summary>Outcome of <see cref="IImageStore.PutManifestAsync"/>. Nothing was written unless <see cref="Succeeded"/>.</summary>
/// <param name="Succeeded">The write committed.</param>
/// <param name="Created">The manifest was new to the repository.</param>
/// <param name="MissingBlobs">Blobs not linked and live (nothing written).</param>
/// <param name="MissingChildren">Index children absent (nothing written).</param>
/// <param name="TagChanged">The tag was created or moved to this manifest.</param>
/// <param name="TagImmutable">The tag already exists and is immutable (nothing written).</param>
/// <param name="WrongSizes">Present blobs or children whose size differs from the declared one (nothing written).</param>
/// <param name="RepositoryMissing">The <see cref="ManifestWrite.Target"/> repository does not exist (nothing written).</param>
/// <param name="Undecided">The <see cref="ManifestWrite.Target"/> decided nothing of its repository (nothing written).</param>
public sealed record PutManifestResult(
    bool Succeeded,
    bool Created,
    IReadOnlyList<Digest> MissingBlobs,
    IReadOnlyList<Digest> MissingChildren,
    bool TagChanged = false,
    bool TagImmutable = false,
    IReadOnlyList<SizeMismatch>? WrongSizes = null,
    bool RepositoryMissing = false,
    bool Undecided = false)
{
    public static PutManifestResult Stored(bool created, bool tagChanged) => new(true, created, [], [], tagChanged);

    public static PutManifestResult ImmutableTag { get; } = new(false, false, [], [], TagImmutable: true);

    public static PutManifestResult NoRepository { get; } = new(false, false, [], [], RepositoryMissing: true);

    public static PutManifestResult NotDecided { get; } = new(false, false, [], [], Undecided: true);
}

/// <summary>Outcome of <see cref="IImageStore.DeleteManifestAsync(long, Primitives.Digest, OutboxEvent?, CancellationToken)"/>.</summary>
public enum DeleteManifestResult
{
    Deleted,
    NotFound,

    /// <summary>An index in the same repository still lists it (ECR's <c>ImageReferencedByManifestList</c>).</summary>
    ReferencedByIndex,
}

/// <summary>One entry of a referrers list (an OCI descriptor).</summary>
public sealed record ReferrerRecord(Digest Digest, string MediaType, long Size, string? ArtifactType, string? AnnotationsJson, bool Archived = false);

/// <summary>An upload session row (DESIGN.md "Uploads survive any node"). Bytes are staged under <see cref="Id"/>.</summary>
public sealed record UploadSession(string Id, long RepositoryId, long Offset, DateTimeOffset StartedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>
    /// The names of the accepted chunks, in order (<c>UploadChunk.Name</c>): which write at each offset
    /// won, so that reads and the commit take exactly the bytes the running hash saw.
    /// </summary>
    public IReadOnlyList<string> Chunks { get; init; } = [];

    // Sessions are equal when their chunks are, element by element (a record compares lists by reference).
    public bool Equals(UploadSession? other) =>
        other is not null && Id == other.Id && RepositoryId == other.RepositoryId && Offset == other.Offset
        && StartedAt == other.StartedAt && ExpiresAt == other.ExpiresAt && Chunks.SequenceEqual(other.Chunks);

    public override int GetHashCode() => HashCode.Combine(Id, RepositoryId, Offset, StartedAt, ExpiresAt, Chunks.Count);
}

/// <summary>Which images a listing includes (ECR's <c>tagStatus</c>).</summary>
public enum TagStatus
{
    Any,
    Tagged,
    Untagged,
}

/// <summary>One entry of ECR's <c>ListImages</c>: a tag of an image, or an untagged image.</summary>
public sealed record ImageId(Digest Digest, string? Tag);

/// <summary>What <c>DescribeImages</c> reports about one image (manifest or index).</summary>
/// <param name="Digest">The manifest digest.</param>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="ArtifactType">Its artifact (or config) media type, if any.</param>
/// <param name="Subject">The subject it refers to, if it is a referrer.</param>
/// <param name="Size">Sum of the referenced blob sizes; for an index the largest child's size.</param>
/// <param name="PushedAt">When the manifest was first pushed.</param>
/// <param name="LastPulledAt">The last recorded pull, if any.</param>
/// <param name="Tags">Its tags, ordinal order.</param>
/// <param name="Archived">It is in the archive storage class (not pullable until restored).</param>
/// <param name="ArchivedAt">When it was last archived.</param>
/// <param name="ActivatedAt">When it was last restored.</param>
/// <param name="Scan">Its scan (without findings), when the caller asked for it.</param>
public sealed record ImageSummary(
    Digest Digest,
    string MediaType,
    string? ArtifactType,
    Digest? Subject,
    long Size,
    DateTimeOffset PushedAt,
    DateTimeOffset? LastPulledAt,
    IReadOnlyList<string> Tags,
    bool Archived = false,
    DateTimeOffset? ArchivedAt = null,
    DateTimeOffset? ActivatedAt = null,
    ImageScanRecord? Scan = null);

/// <summary>A pull to record: the image and when it was pulled.</summary>
public sealed record PullRecord(long RepositoryId, Digest Digest, DateTimeOffset PulledAt);

/// <summary>Outcome of <see cref="IImageStore.UntagImageAsync(long, string, CancellationToken)"/>.</summary>
/// <param name="Found">The tag existed.</param>
/// <param name="Digest">The image it pointed at.</param>
/// <param name="ImageDeleted">It was the image's last tag, so the image went too.</param>
public sealed record UntagResult(bool Found, Digest? Digest, bool ImageDeleted);

/// <summary>A principal: an account's root, or an IAM user or role.</summary>
/// <param name="Arn">Its ARN (<c>arn:aws:iam::&lt;account&gt;:root</c>, <c>…:user/&lt;name&gt;</c>).</param>
/// <param name="Account">The account it belongs to.</param>
/// <param name="Kind"><c>root</c>, <c>user</c> or <c>role</c>.</param>
/// <param name="Name">The user or role name (the account id for root).</param>
/// <param name="UniqueId">IAM's unique id (<c>AIDA…</c>; the account id for root).</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record PrincipalRecord(string Arn, AccountId Account, string Kind, string Name, string UniqueId, DateTimeOffset CreatedAt);

/// <summary>An access key: its id, owner, the secret sealed under the master key, and status.</summary>
/// <param name="Id">The key id (<c>AKIA…</c>).</param>
/// <param name="PrincipalArn">Who it belongs to.</param>
/// <param name="SealedSecret">The secret, encrypted (AES-GCM) under the master key, bound to <paramref name="Id"/>.</param>
/// <param name="Active">Inactive keys authenticate nothing.</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record AccessKeyRecord(string Id, string PrincipalArn, byte[] SealedSecret, bool Active, DateTimeOffset CreatedAt);

/// <summary>An IAM role: the principal, who may assume it, and for how long at most.</summary>
/// <param name="Principal">The role as a principal (<c>arn:aws:iam::&lt;account&gt;:role/&lt;name&gt;</c>, <c>AROA…</c>).</param>
/// <param name="TrustPolicy">The role's trust policy (a resource policy on <c>sts:AssumeRole</c>).</param>
/// <param name="MaxSessionSeconds">The longest session <c>AssumeRole</c> grants (3,600–43,200).</param>
public sealed record RoleRecord(PrincipalRecord Principal, string TrustPolicy, int MaxSessionSeconds);

/// <summary>An IAM group: users in it get its policies. Not a principal.</summary>
/// <param name="Arn"><c>arn:aws:iam::&lt;account&gt;:group/&lt;name&gt;</c>.</param>
/// <param name="Account">The account it belongs to.</param>
/// <param name="Name">The group name.</param>
/// <param name="UniqueId">IAM's unique id (<c>AGPA…</c>).</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record GroupRecord(string Arn, AccountId Account, string Name, string UniqueId, DateTimeOffset CreatedAt);

/// <summary>The policies an identity holds: its own and, for a user, its groups'.</summary>
/// <param name="Inline">Inline policy documents.</param>
/// <param name="Managed">Attached managed policy ARNs.</param>
public sealed record IdentityPolicies(IReadOnlyList<string> Inline, IReadOnlyList<string> Managed);

/// <summary>A customer managed policy (IAM's <c>CreatePolicy</c>): its versions are <see cref="PolicyVersionRecord"/>s.</summary>
/// <param name="Arn"><c>arn:aws:iam::&lt;account&gt;:policy/&lt;name&gt;</c>.</param>
/// <param name="Account">The account it belongs to.</param>
/// <param name="Name">The policy name.</param>
/// <param name="UniqueId">IAM's policy id (<c>ANPA…</c>).</param>
/// <param name="Description">The description given at creation, if any.</param>
/// <param name="DefaultVersionId">The version that is in force (<c>v1</c>, <c>v2</c>, …).</param>
/// <param name="AttachmentCount">How many users, groups and roles it is attached to.</param>
/// <param name="CreatedAt">Creation time.</param>
/// <param name="UpdatedAt">When the default version last changed.</param>
public sealed record ManagedPolicyRecord(
    string Arn, AccountId Account, string Name, string UniqueId, string? Description, string DefaultVersionId, int AttachmentCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One version of a customer managed policy.</summary>
/// <param name="VersionId"><c>v1</c>, <c>v2</c>, …: never reused within the policy.</param>
/// <param name="Document">The policy document as written.</param>
/// <param name="IsDefault">Whether it is the version in force.</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record PolicyVersionRecord(string VersionId, string Document, bool IsDefault, DateTimeOffset CreatedAt);

/// <summary>
/// Where the SQL backends keep an owner's policies: a principal's in <c>principal_policies</c>, a
/// group's (a <c>:group/</c> ARN) in <c>group_policies</c> (both backends share the schema's names).
/// </summary>
/// <param name="Owners">The table the owner is a row of.</param>
/// <param name="Inline">Inline policies, by owner and name.</param>
/// <param name="Managed">Attached managed policies, by owner.</param>
/// <param name="Owner">The owner's column in both policy tables.</param>
public sealed record PolicyTables(string Owners, string Inline, string Managed, string Owner)
{
    private static readonly PolicyTables Principals = new("principals", "principal_policies", "principal_managed_policies", "principal_arn");
    private static readonly PolicyTables Groups = new("iam_groups", "group_policies", "group_managed_policies", "group_arn");

    public static PolicyTables For(string ownerArn) =>
        ownerArn.StartsWith("arn:aws:iam::", StringComparison.Ordinal) && ownerArn.Contains(":group/", StringComparison.Ordinal) ? Groups : Principals;
}

/// <summary>ECR's <c>imageStatus</c> filter of <c>ListImages</c> and <c>DescribeImages</c>; without one, only active images.</summary>
public enum ImageStatusFilter
{
    Active,
    Archived,
    Activating,
    Any,
}
