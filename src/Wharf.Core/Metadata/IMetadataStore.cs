using Wharf.Core.Events;
using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>
/// The metadata store: a facade over narrow stores, each a few methods whose writes are named for
/// the business action. One schema with versioned migrations; every backend passes one contract suite.
/// Expected absence is null/false; only faults throw.
/// </summary>
public interface IMetadataStore : IAsyncDisposable
{
    /// <summary>Short backend name for logs and <c>/health</c> (<c>sqlite</c>, <c>postgres</c>).</summary>
    string Backend { get; }

    IRepositoryStore Repositories { get; }

    IBlobIndex Blobs { get; }

    IImageStore Images { get; }

    IUploadStore Uploads { get; }

    IJobLeaseStore Leases { get; }

    IServerKeyStore Keys { get; }

    ILifecycleStore Lifecycle { get; }

    IVulnerabilityStore Vulnerabilities { get; }

    IScanStore Scans { get; }

    IIdentityStore Identities { get; }

    /// <summary>The events the stores' writes record, and their consumers' cursors.</summary>
    IEventLog Events { get; }

    /// <summary>The replication queue and the statuses <c>DescribeImageReplicationStatus</c> reports.</summary>
    IReplicationStore Replications { get; }

    /// <summary>When pull-through cache tags were last validated against their upstream.</summary>
    IPullThroughCacheStore PullThroughCache { get; }

    /// <summary>The secrets of the Secrets Manager-compatible API (values sealed with the master key).</summary>
    Secrets.ISecretStore Secrets { get; }

    /// <summary>Public registries (ECR Public): aliases, catalog data, the gallery's search, anonymous data counters.</summary>
    IPublicRegistryStore Public { get; }

    /// <summary>The web console's sign-in: IAM login profiles (passwords) and console sessions.</summary>
    ILoginStore Logins { get; }

    /// <summary>The audit trail: CloudTrail-shaped records of API calls and /v2 writes and refusals.</summary>
    Audit.IAuditStore Audit { get; }

    /// <summary>Webhook subscriptions, their deliveries and dead letters.</summary>
    Webhooks.IWebhookStore Webhooks { get; }

    /// <summary>The sealed copies of blobs (encryption at rest: which scope has which blob where).</summary>
    Encryption.ISealedCopyStore SealedCopies { get; }

    /// <summary>The KMS-compatible key service: keys, their material sealed with the master key, aliases and grants.</summary>
    Kms.IKmsStore Kms { get; }

    /// <summary>Applies pending migrations (idempotent, safe to run from several nodes at once).</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>A cheap round trip, for readiness.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

public interface IRepositoryStore
{
    Task<Repository?> GetAsync(RepositoryKey key, CancellationToken cancellationToken);

    /// <summary>Creates the repository with default settings, or returns null when it already exists.</summary>
    Task<Repository?> CreateAsync(RepositoryKey key, DateTimeOffset now, CancellationToken cancellationToken) =>
        CreateAsync(key, RepositorySettings.Default, [], now, cancellationToken);

    /// <summary>Creates the repository with its settings and resource tags in one transaction, or returns null when it already exists.</summary>
    Task<Repository?> CreateAsync(RepositoryKey key, RepositorySettings settings, IReadOnlyList<ResourceTag> tags, DateTimeOffset now, CancellationToken cancellationToken) =>
        CreateAsync(key, new RepositoryCreation(settings, tags), now, cancellationToken);

    /// <summary>
    /// Creates the repository with everything <paramref name="creation"/> carries (settings, resource tags,
    /// repository and lifecycle policies) in one transaction, or returns null when it already exists:
    /// a repository is never seen half made.
    /// </summary>
    Task<Repository?> CreateAsync(RepositoryKey key, RepositoryCreation creation, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The registry's policy, or null.</summary>
    Task<string?> GetRegistryPolicyAsync(RegistryKey registry, CancellationToken cancellationToken);

    /// <summary>Sets (or, with null, removes) the registry's policy; returns the policy it had.</summary>
    Task<string?> SetRegistryPolicyAsync(RegistryKey registry, string? policy, CancellationToken cancellationToken);

    /// <summary>The registry's account settings that were set (name to value).</summary>
    Task<IReadOnlyDictionary<string, string>> GetRegistrySettingsAsync(RegistryKey registry, CancellationToken cancellationToken);

    /// <summary>Every registry that has account settings or a policy (registries with only defaults are not listed).</summary>
    Task<IReadOnlyList<RegistryKey>> ListConfiguredRegistriesAsync(CancellationToken cancellationToken);

    /// <summary>Sets one account setting of the registry.</summary>
    Task SetRegistrySettingAsync(RegistryKey registry, string name, string value, CancellationToken cancellationToken);

    /// <summary>
    /// Reads one registry setting (null when unset) and writes what <paramref name="change"/> makes of it
    /// (null removes it; the same value writes nothing), in one transaction that holds the registry's row,
    /// so concurrent changes of a list kept in one setting do not lose each other.
    /// </summary>
    Task<T> ChangeRegistrySettingAsync<T>(RegistryKey registry, string name, Func<string?, (string? Value, T Result)> change, CancellationToken cancellationToken);

    /// <summary>Sets (or, with null, removes) the repository policy. False when the repository is gone.</summary>
    Task<bool> SetPolicyAsync(long repositoryId, string? policy, CancellationToken cancellationToken);

    /// <summary>Replaces the settings. False when the repository is gone.</summary>
    Task<bool> UpdateSettingsAsync(long repositoryId, RepositorySettings settings, CancellationToken cancellationToken);

    /// <summary>Returns the repository, creating it if missing (create-on-push). Safe under concurrency.</summary>
    Task<Repository> GetOrCreateAsync(RepositoryKey key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Repositories of a registry ordered by name (ordinal), those after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<Repository>> ListAsync(RegistryKey registry, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>A page of a registry's repositories for the console: filtered by a name part, by name or creation time, either way, keyset-paged.</summary>
    Task<IReadOnlyList<Repository>> BrowseAsync(RegistryKey registry, RepositoryBrowse query, CancellationToken cancellationToken);

    /// <summary>The image count and size of each of these repositories that exists (one page's rows: each is read on its own).</summary>
    Task<IReadOnlyList<RepositoryStatistics>> GetStatisticsAsync(IReadOnlyCollection<long> repositoryIds, CancellationToken cancellationToken);

    /// <summary>The regions where <paramref name="account"/> has private repositories, by name, with how many.</summary>
    Task<IReadOnlyList<RegionRepositories>> CountByRegionAsync(AccountId account, CancellationToken cancellationToken);

    /// <summary>Deletes the repository with its manifests, tags, blob links and upload sessions. False when absent.</summary>
    Task<bool> DeleteAsync(long repositoryId, CancellationToken cancellationToken);

    /// <summary>How many repositories there are, private and public, in every registry (<c>wharf status</c>; one count of the primary key).</summary>
    Task<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>Deletes the repository only if it has no manifest, deciding inside the transaction.</summary>
    Task<RepositoryDeleteResult> DeleteIfEmptyAsync(long repositoryId, CancellationToken cancellationToken);

    /// <summary>The repository's resource tags, ordered by key (ordinal).</summary>
    Task<IReadOnlyList<ResourceTag>> GetResourceTagsAsync(long repositoryId, CancellationToken cancellationToken);

    /// <summary>Adds or overwrites tags, unless the repository would then carry more than <paramref name="maxTags"/>.</summary>
    Task<ResourceTagResult> TagAsync(long repositoryId, IReadOnlyList<ResourceTag> tags, int maxTags, CancellationToken cancellationToken);

    /// <summary>Removes the tags with these keys (absent keys are ignored). False when the repository is gone.</summary>
    Task<bool> UntagAsync(long repositoryId, IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
}

/// <summary>
/// Which blobs exist and which repositories may read them. A blob is readable from a repository only
/// through a link (made by an upload, a mount or a manifest that references it). The row states and
/// the grace window make GC race-free (docs/architecture.md "Garbage collection").
/// </summary>
public interface IBlobIndex
{
    /// <summary>
    /// Before committing bytes: inserts the blob row as live, or touches a live row (touch time = now).
    /// Returns <see cref="BlobReservation.BeingDeleted"/> without change when GC has claimed it.
    /// </summary>
    Task<BlobReservation> ReserveBlobAsync(Digest digest, long size, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Links a live blob to a repository (after its bytes are committed, or for a mount) and touches it.
    /// False when the blob row is absent or being deleted.
    /// </summary>
    Task<bool> LinkBlobAsync(long repositoryId, Digest digest, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The blob if it is live and linked to the repository, else null.</summary>
    Task<BlobRecord?> GetLinkedBlobAsync(long repositoryId, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// The repository <paramref name="key"/> names and, read by the same statement, the blob if it is live and linked
    /// to it (else null): a blob HEAD in one round trip. Null when the repository does not exist.
    /// </summary>
    Task<(Repository Repository, BlobRecord? Blob)?> FindLinkedBlobAsync(RepositoryKey key, Digest digest, CancellationToken cancellationToken);

    /// <summary>True when a manifest of the repository references the blob (layer download URLs need it, as ECR).</summary>
    Task<bool> IsReferencedInRepositoryAsync(long repositoryId, Digest digest, CancellationToken cancellationToken);

    /// <summary>Removes a repository's link to a blob (blob DELETE). False when there was none.</summary>
    Task<bool> UnlinkBlobAsync(long repositoryId, Digest digest, CancellationToken cancellationToken);

    /// <summary>The live blob row whatever its links, or null (also while GC has it claimed).</summary>
    Task<BlobRecord?> GetBlobAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// GC, step 1: claims up to <paramref name="limit"/> live blobs that no manifest references and whose
    /// touch time is before <paramref name="cutoff"/>, marking them as being deleted. Claiming and
    /// referencing (<see cref="IImageStore.PutManifestAsync"/>) exclude each other.
    /// </summary>
    Task<IReadOnlyList<BlobRecord>> ClaimGarbageAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);

    /// <summary>Blobs left claimed by a GC run that did not finish (to finish them).</summary>
    Task<IReadOnlyList<BlobRecord>> ListClaimedAsync(int limit, CancellationToken cancellationToken);

    /// <summary>GC, step 3 (after the bytes are deleted): removes the claimed rows and their links.</summary>
    Task ForgetClaimedAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    /// <summary>Every live blob that some manifest references (for <c>wharf check</c>).</summary>
    IAsyncEnumerable<BlobRecord> ListReferencedAsync(CancellationToken cancellationToken);

    /// <summary>How many live blobs there are and their bytes (<c>wharf status</c>, and the size of <c>wharf check</c>'s work; one aggregate).</summary>
    Task<BlobTotals> GetTotalsAsync(CancellationToken cancellationToken);

    // ---- encryption at rest (issue 21, the migration and GC) ----

    /// <summary>
    /// The encryption settings (<c>encryptionType</c>, KMS key) of the repositories linked to the blob, each pair once:
    /// which scopes need a sealed copy of it (<see cref="Encryption.BlobScope.Of(RepositorySettings)"/>). Empty when none.
    /// </summary>
    Task<IReadOnlyList<(string EncryptionType, string? KmsKey)>> ListLinkEncryptionsAsync(Digest digest, CancellationToken cancellationToken);
}

public interface IImageStore
{
    /// <summary>
    /// Commits a manifest, its blob references, index children and tag in one transaction, after
    /// checking every blob is live and linked to the repository and every child is a manifest there.
    /// Re-pushing identical bytes succeeds with <c>Created = false</c> (and moves the tag).
    /// </summary>
    Task<PutManifestResult> PutManifestAsync(ManifestWrite write, CancellationToken cancellationToken);

    Task<ManifestRecord?> GetManifestAsync(long repositoryId, Digest digest, CancellationToken cancellationToken);

    Task<ManifestRecord?> GetManifestByTagAsync(long repositoryId, string tag, CancellationToken cancellationToken);

    /// <summary>
    /// The repository <paramref name="key"/> names and its manifest by <paramref name="reference"/> (tag or digest;
    /// null when it has none), read by one statement: a manifest GET needs both, and on a networked database each store
    /// call is a round trip. Null when the repository does not exist.
    /// </summary>
    Task<(Repository Repository, ManifestRecord? Manifest)?> FindManifestAsync(RepositoryKey key, Reference reference, CancellationToken cancellationToken);

    /// <summary>Deletes a manifest with all its tags and references (not its blobs: GC does that).</summary>
    Task<DeleteManifestResult> DeleteManifestAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        DeleteManifestAsync(repositoryId, digest, null, cancellationToken);

    /// <summary>As above, recording <paramref name="evt"/> in the event log with the deletion.</summary>
    Task<DeleteManifestResult> DeleteManifestAsync(long repositoryId, Digest digest, OutboxEvent? evt, CancellationToken cancellationToken);

    /// <summary>Removes only the tag. False when absent.</summary>
    Task<bool> DeleteTagAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        DeleteTagAsync(repositoryId, tag, null, cancellationToken);

    /// <summary>
    /// As above, recording the event <paramref name="evt"/> makes of the digest the tag named, in the
    /// same transaction (the digest is read inside it, so the event names what was removed).
    /// </summary>
    Task<bool> DeleteTagAsync(long repositoryId, string tag, Func<Digest, OutboxEvent>? evt, CancellationToken cancellationToken);

    /// <summary>Tags in ordinal order, those after <paramref name="last"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> ListTagsAsync(long repositoryId, string? last, int limit, CancellationToken cancellationToken);

    /// <summary>Manifests whose subject is <paramref name="subject"/>, optionally of one artifact type, ordered by digest.</summary>
    Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(long repositoryId, Digest subject, string? artifactType, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a tag and, when it was the image's last and no index lists the image, the image too
    /// (ECR's <c>BatchDeleteImage</c> by tag), in one transaction.
    /// </summary>
    Task<UntagResult> UntagImageAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        UntagImageAsync(repositoryId, tag, null, cancellationToken);

    /// <summary>As above, recording the event <paramref name="evt"/> makes of the digest the tag named, in the same transaction.</summary>
    Task<UntagResult> UntagImageAsync(long repositoryId, string tag, Func<Digest, OutboxEvent>? evt, CancellationToken cancellationToken);

    /// <summary>
    /// ECR's <c>ListImages</c>: one entry per (digest, tag) and one per untagged image, ordered by digest
    /// then tag (an untagged entry first), strictly after <paramref name="after"/>.
    /// </summary>
    Task<IReadOnlyList<ImageId>> ListImageIdsAsync(long repositoryId, TagStatus status, ImageId? after, int limit, CancellationToken cancellationToken) =>
        ListImageIdsAsync(repositoryId, status, ImageStatusFilter.Active, after, limit, cancellationToken);

    /// <summary>As above, for images of <paramref name="imageStatus"/>.</summary>
    Task<IReadOnlyList<ImageId>> ListImageIdsAsync(long repositoryId, TagStatus status, ImageStatusFilter imageStatus, ImageId? after, int limit, CancellationToken cancellationToken);

    /// <summary>Images ordered by digest, strictly after <paramref name="after"/>, with their tags.</summary>
    Task<IReadOnlyList<ImageSummary>> DescribeImagesAsync(long repositoryId, TagStatus status, Digest? after, int limit, CancellationToken cancellationToken) =>
        DescribeImagesAsync(repositoryId, status, ImageStatusFilter.Active, after, limit, cancellationToken);

    /// <summary>As above, for images of <paramref name="imageStatus"/>.</summary>
    Task<IReadOnlyList<ImageSummary>> DescribeImagesAsync(long repositoryId, TagStatus status, ImageStatusFilter imageStatus, Digest? after, int limit, CancellationToken cancellationToken);

    /// <summary>The images with these digests that exist (in any order), with their tags.</summary>
    Task<IReadOnlyList<ImageSummary>> GetImagesAsync(long repositoryId, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    /// <summary>True when the repository has at least one manifest.</summary>
    Task<bool> HasImagesAsync(long repositoryId, CancellationToken cancellationToken);

    /// <summary>A page of the repository's images newest pushed first (digest breaking ties, descending), with their tags (the console's images table).</summary>
    Task<IReadOnlyList<ImageSummary>> BrowseImagesAsync(long repositoryId, ImageBrowse query, CancellationToken cancellationToken);

    /// <summary>Moves each image's last-pull time forward to the recorded time (never back). Absent images are ignored.</summary>
    Task RecordPullsAsync(IReadOnlyCollection<PullRecord> pulls, CancellationToken cancellationToken);

    /// <summary>How many manifests there are in every repository (images and their index children; <c>wharf status</c>).</summary>
    Task<long> CountManifestsAsync(CancellationToken cancellationToken);
}

public interface IUploadStore
{
    Task CreateAsync(UploadSession session, CancellationToken cancellationToken);

    Task<UploadSession?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the offset from <paramref name="expectedOffset"/> to <paramref name="newOffset"/> (optimistic) and,
    /// in the same statement, appends <paramref name="chunk"/> (when not null) to the session's chunks.
    /// False when the row is absent or moved: then nothing changes.
    /// </summary>
    Task<bool> AdvanceAsync(string id, long expectedOffset, long newOffset, string? chunk, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Sessions whose expiry is at or before <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<UploadSession>> ListExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>True when a session with this id exists (to tell orphaned staging areas).</summary>
    Task<bool> ExistsAsync(string id, CancellationToken cancellationToken);

    /// <summary>How many upload sessions are open, expired ones not yet swept included (<c>wharf status</c>).</summary>
    Task<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>How many sessions are open: not expired at <paramref name="now"/> (the open-upload-sessions gauge, read once per scrape).</summary>
    Task<long> CountOpenAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>Accounts, principals and access keys (DESIGN.md "Identity").</summary>
public interface IIdentityStore
{
    /// <summary>
    /// The authorization generation: a number that changes, in the same transaction, with every write that can change
    /// an authorization decision — identities, access keys, groups, policies and their versions, principal tags, trust,
    /// registry and repository policies, registry settings, repository creation and deletion, repository tags, token
    /// signing keys — whoever makes it (this process, <c>wharf admin</c>, another node). What was read from those is
    /// valid while it is unchanged (docs/identity.md "Caches and their bounds").
    /// </summary>
    Task<long> GetAuthorizationGenerationAsync(CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="GetAuthorizationGenerationAsync"/>, from a reading this store took at most
    /// <paramref name="maxAge"/> ago and before which none of its own writes has returned: a write made through this
    /// store instance (this process) shows on the next call, one made by another process or node within
    /// <paramref name="maxAge"/> (docs/identity.md "Caches and their bounds"). Without a reading to reuse, reads.
    /// </summary>
    ValueTask<long> GetRecentAuthorizationGenerationAsync(TimeSpan maxAge, CancellationToken cancellationToken) =>
        new(GetAuthorizationGenerationAsync(cancellationToken));

    /// <summary>Creates the account with its root principal unless it exists; true when created.</summary>
    Task<bool> EnsureAccountAsync(AccountId account, DateTimeOffset now, CancellationToken cancellationToken);

    Task<PrincipalRecord?> GetPrincipalAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Adds a key to an existing principal; false when the principal is absent.</summary>
    Task<bool> CreateAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken);

    Task<AccessKeyRecord?> GetAccessKeyAsync(string id, CancellationToken cancellationToken);

    /// <summary>The principal's keys, oldest first.</summary>
    Task<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(string principalArn, CancellationToken cancellationToken);

    Task<bool> DeleteAccessKeyAsync(string id, CancellationToken cancellationToken);

    /// <summary>Activates or deactivates a key. False when absent.</summary>
    Task<bool> SetAccessKeyActiveAsync(string id, bool active, CancellationToken cancellationToken);

    /// <summary>Creates an IAM user in an existing account; null when the account is absent or the name taken.</summary>
    Task<PrincipalRecord?> CreateUserAsync(AccountId account, string name, string uniqueId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The account's users, by name.</summary>
    Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(AccountId account, CancellationToken cancellationToken);

    /// <summary>A page of the account's users by name: at most <paramref name="limit"/>, those after <paramref name="after"/> (a name).</summary>
    Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes a user with its keys and policies. False when absent.</summary>
    Task<bool> DeletePrincipalAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Creates a role in an existing account; null when the account is absent or the name taken.</summary>
    Task<RoleRecord?> CreateRoleAsync(RoleRecord role, CancellationToken cancellationToken);

    Task<RoleRecord?> GetRoleAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Creates a group in an existing account; null when the account is absent or the name taken.</summary>
    Task<GroupRecord?> CreateGroupAsync(GroupRecord group, CancellationToken cancellationToken);

    Task<GroupRecord?> GetGroupAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Deletes a group with its memberships and policies. False when absent.</summary>
    Task<bool> DeleteGroupAsync(string arn, CancellationToken cancellationToken);

    /// <summary>The group's users, by name.</summary>
    Task<IReadOnlyList<PrincipalRecord>> ListGroupMembersAsync(string groupArn, CancellationToken cancellationToken);

    /// <summary>Adds a user to a group (idempotent). False when either is absent.</summary>
    Task<bool> AddGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken);

    Task<bool> RemoveGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken);

    /// <summary>
    /// Adds or replaces an inline policy of a principal or (a <c>:group/</c> ARN) a group. False when
    /// the owner is absent. The policy methods below take groups alike.
    /// </summary>
    Task<bool> PutInlinePolicyAsync(string principalArn, string name, string document, CancellationToken cancellationToken);

    Task<bool> DeleteInlinePolicyAsync(string principalArn, string name, CancellationToken cancellationToken);

    /// <summary>Attaches a managed policy (idempotent). False when the principal is absent.</summary>
    Task<bool> AttachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken);

    Task<bool> DetachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken);

    /// <summary>The principal's or group's own inline policy documents (by name) and attached managed policy ARNs.</summary>
    Task<(IReadOnlyList<(string Name, string Document)> Inline, IReadOnlyList<string> Managed)> GetPoliciesAsync(string principalArn, CancellationToken cancellationToken);

    /// <summary>Every identity policy that applies to the principal: its own and its groups', in one read.</summary>
    Task<IdentityPolicies> GetIdentityPoliciesAsync(string principalArn, CancellationToken cancellationToken);

    /// <summary>The account's groups, by name.</summary>
    Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(AccountId account, CancellationToken cancellationToken);

    /// <summary>A page of the account's groups by name, those after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>The groups a user is in, by name.</summary>
    Task<IReadOnlyList<GroupRecord>> ListGroupsForUserAsync(string userArn, CancellationToken cancellationToken);

    /// <summary>The account's roles, by name.</summary>
    Task<IReadOnlyList<RoleRecord>> ListRolesAsync(AccountId account, CancellationToken cancellationToken);

    /// <summary>A page of the account's roles by name, those after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<RoleRecord>> ListRolesAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Replaces a role's trust policy. False when the role is absent.</summary>
    Task<bool> SetTrustPolicyAsync(string roleArn, string document, CancellationToken cancellationToken);

    /// <summary>Creates a customer managed policy with <paramref name="document"/> as its default version <c>v1</c>; null when the account is absent or the name taken.</summary>
    Task<ManagedPolicyRecord?> CreateManagedPolicyAsync(ManagedPolicyRecord policy, string document, CancellationToken cancellationToken);

    Task<ManagedPolicyRecord?> GetManagedPolicyAsync(string arn, CancellationToken cancellationToken);

    /// <summary>The account's customer managed policies, by name.</summary>
    Task<IReadOnlyList<ManagedPolicyRecord>> ListManagedPoliciesAsync(AccountId account, CancellationToken cancellationToken);

    /// <summary>A page of the account's customer managed policies by name, those after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<ManagedPolicyRecord>> ListManagedPoliciesAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>The policy's versions, newest first.</summary>
    Task<IReadOnlyList<PolicyVersionRecord>> ListPolicyVersionsAsync(string policyArn, CancellationToken cancellationToken);

    /// <summary>
    /// Adds the next version (optionally making it the default), unless the policy has
    /// <paramref name="maxVersions"/> already; null when absent or full.
    /// </summary>
    Task<PolicyVersionRecord?> AddPolicyVersionAsync(string policyArn, string document, bool setAsDefault, int maxVersions, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Makes a version the default. False when the policy or the version is absent.</summary>
    Task<bool> SetDefaultPolicyVersionAsync(string policyArn, string versionId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes a version that is not the default. False when absent or the default.</summary>
    Task<bool> DeletePolicyVersionAsync(string policyArn, string versionId, CancellationToken cancellationToken);

    /// <summary>Deletes a customer managed policy with its versions. False when absent.</summary>
    Task<bool> DeleteManagedPolicyAsync(string arn, CancellationToken cancellationToken);

    /// <summary>The default version's document of each customer managed policy named (absent ones are left out).</summary>
    Task<IReadOnlyList<string>> GetManagedPolicyDocumentsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken);

    /// <summary>How many users, groups and roles of <paramref name="account"/> the managed policy is attached to.</summary>
    Task<int> CountAttachmentsAsync(string policyArn, AccountId account, CancellationToken cancellationToken);

    /// <summary>A user's or role's IAM tags, by key.</summary>
    Task<IReadOnlyList<ResourceTag>> ListPrincipalTagsAsync(string principalArn, CancellationToken cancellationToken);

    /// <summary>Adds or replaces tags, unless the principal would then have more than <paramref name="maxTags"/>. Null when absent, false when too many.</summary>
    Task<bool?> TagPrincipalAsync(string principalArn, IReadOnlyList<ResourceTag> tags, int maxTags, CancellationToken cancellationToken);

    /// <summary>Removes the tags with these keys (missing keys are ignored).</summary>
    Task UntagPrincipalAsync(string principalArn, IReadOnlyList<string> keys, CancellationToken cancellationToken);
}

/// <summary>
/// IAM login profiles and the console's sessions (docs/console.md). Sessions live here, not in memory, so
/// that every node knows them and signing out (or deleting the login profile) ends them everywhere.
/// </summary>
public interface ILoginStore
{
    /// <summary>Creates the principal's login profile; false when it already has one.</summary>
    Task<bool> CreateLoginProfileAsync(LoginProfileRecord profile, CancellationToken cancellationToken);

    /// <summary>Replaces the password hash and the reset flag; false when the principal has no login profile.</summary>
    Task<bool> UpdateLoginProfileAsync(LoginProfileRecord profile, CancellationToken cancellationToken);

    Task<LoginProfileRecord?> GetLoginProfileAsync(string principalArn, CancellationToken cancellationToken);

    /// <summary>Deletes the login profile and the principal's password sessions; false when absent.</summary>
    Task<bool> DeleteLoginProfileAsync(string principalArn, CancellationToken cancellationToken);

    Task CreateSessionAsync(ConsoleSessionRecord session, CancellationToken cancellationToken);

    Task<ConsoleSessionRecord?> GetSessionAsync(string idHash, CancellationToken cancellationToken);

    /// <summary>Moves the session's last-seen time forward (idle timeout); false when the session is gone.</summary>
    Task<bool> TouchSessionAsync(string idHash, DateTimeOffset lastSeenAt, CancellationToken cancellationToken);

    /// <summary>Ends one session (sign-out); false when absent.</summary>
    Task<bool> DeleteSessionAsync(string idHash, CancellationToken cancellationToken);

    /// <summary>Ends every session of the principal (password changed, user deleted); returns how many.</summary>
    Task<int> DeleteSessionsAsync(string principalArn, CancellationToken cancellationToken);

    /// <summary>Deletes sessions idle since before <paramref name="idleBefore"/> or created before <paramref name="createdBefore"/>; returns how many.</summary>
    Task<int> DeleteExpiredSessionsAsync(DateTimeOffset idleBefore, DateTimeOffset createdBefore, CancellationToken cancellationToken);
}

/// <summary>Server-wide secret keys shared by every node (URL and page-token signing).</summary>
public interface IServerKeyStore
{
    /// <summary>Stores <paramref name="candidate"/> under <paramref name="name"/> unless a key is there; returns the stored key.</summary>
    Task<byte[]> GetOrCreateAsync(string name, byte[] candidate, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The keys whose names start with <paramref name="prefix"/> (a rotated family), by name.</summary>
    Task<IReadOnlyList<(string Name, byte[] Value)>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Removes a key (what it signed stops verifying). False when absent.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}

/// <summary>Named leases so that one node at a time runs a background job (DESIGN.md "Background work").</summary>
public interface IJobLeaseStore
{
    /// <summary>Takes or renews the lease when it is free, expired, or already <paramref name="owner"/>'s.</summary>
    Task<bool> TryAcquireAsync(string job, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>
    /// Extends <paramref name="owner"/>'s lease to <paramref name="now"/> + <paramref name="duration"/> while
    /// it still holds it unexpired; false when it has expired, was released, or another owner took it —
    /// the holder must then stop the run, which another node may already have started.
    /// </summary>
    Task<bool> RenewAsync(string job, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken);

    Task ReleaseAsync(string job, string owner, CancellationToken cancellationToken);

    /// <summary>Records how the job's latest run ended (one row per job, replaced by each run, on whichever node ran it).</summary>
    Task RecordRunAsync(JobRunRecord run, CancellationToken cancellationToken);

    /// <summary>The latest run of each job that has run, by job name (<c>wharf status</c>).</summary>
    Task<IReadOnlyList<JobRunRecord>> ListRunsAsync(CancellationToken cancellationToken);
}

/// <summary>
/// How a background job's latest run ended: when it started, how long it took, whether it succeeded
/// (<see cref="Failure"/> null) and its outcome line, and when the node that ran it will run it next.
/// </summary>
public sealed record JobRunRecord(string Job, string Owner, DateTimeOffset StartedAt, TimeSpan Duration, string Outcome, string? Failure, DateTimeOffset? NextDueAt);

/// <summary>The live blobs: how many, and their bytes.</summary>
public readonly record struct BlobTotals(long Count, long Bytes);
