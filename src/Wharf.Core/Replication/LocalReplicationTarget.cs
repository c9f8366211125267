using Wharf.Core.Encryption;
using Wharf.Core.Errors;
using Wharf.Core.Events;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;
using Wharf.Core.Uploads;

namespace Wharf.Core.Replication;

/// <summary>
/// This Wharf's own registry of another region or account as a destination. Both registries share one
/// blob store, so a blob is linked to the destination repository, never copied again — unless the destination
/// is encrypted under another key than the source, which then gets a sealed copy of its own. The destination
/// repository is created when missing (its creation templates apply); an index's children go first, then
/// the manifest under each tag, recorded as <c>ECR Replication Action</c>s so the copy is not replicated
/// onward; an image archived in the destination is restored. Across accounts the destination registry's
/// policy must allow the source account's root <c>ecr:ReplicateImage</c> (and <c>ecr:CreateRepository</c>
/// when the repository is missing), evaluated as AWS evaluates a registry policy, whatever the access mode.
/// </summary>
public sealed class LocalReplicationTarget(IMetadataStore store, RepositoryCreator creator, ManifestService manifests, UploadService uploads, IBlobVault vault, TimeProvider time) : IReplicationTarget
{
    public async Task ReplicateAsync(ReplicationItem item, IReplicationSource source, CancellationToken cancellationToken)
    {
        if (!AccountId.TryParse(item.Destination.RegistryId, out var account))
        {
            throw new ReplicationException(ReplicationFailureCodes.DestinationRefused, $"'{item.Destination.RegistryId}' is not a registry id.", retryable: false);
        }

        var destination = new RepositoryKey(new RegistryKey(account, item.Destination.Region), item.Source.Name);
        var repository = await store.Repositories.GetAsync(destination, cancellationToken);
        if (account != item.Source.Registry.Account)
        {
            await AuthorizeAsync(item.Source.Registry, destination, EcrActions.ReplicateImage, cancellationToken);
            if (repository is null)
            {
                await AuthorizeAsync(item.Source.Registry, destination, EcrActions.CreateRepository, cancellationToken);
            }
        }

        var manifest = await source.GetManifestAsync(item.Source, item.Digest, cancellationToken)
            ?? throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The image {item.Digest} is gone from {item.Source.Name}.", retryable: false);
        repository ??= await creator.GetOrCreateAsync(destination, CreationPurpose.Replication, cancellationToken);
        var copy = new Copy(item, destination, repository, source);
        await CopyAsync(copy, manifest, item.Tags, depth: 0, cancellationToken);
    }

    /// <summary>
    /// Whether <paramref name="source"/>'s root may <paramref name="action"/> on <paramref name="destination"/>
    /// by the destination registry's policy alone (the root of an account needs no identity policy).
    /// </summary>
    private async Task AuthorizeAsync(RegistryKey source, RepositoryKey destination, string action, CancellationToken cancellationToken)
    {
        var policy = await store.Repositories.GetRegistryPolicyAsync(destination.Registry, cancellationToken);
        var principal = $"arn:aws:iam::{source.Account}:root";
        var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:PrincipalArn"] = [principal],
            ["aws:PrincipalAccount"] = [source.Account.Value],
            ["aws:PrincipalType"] = ["Account"],
            ["aws:SourceAccount"] = [source.Account.Value],
            ["aws:CurrentTime"] = [time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)],
        };
        var request = new RequestContext(principal, source.Account.Value, action, destination.Arn, destination.Registry.Account.Value, keys);
        var decision = PolicyEvaluator.EvaluateAll(request, [], policy is null ? [] : [PolicyDocument.Parse(policy, isResourcePolicy: true)]);
        if (!decision.Allowed)
        {
            throw new ReplicationException(
                ReplicationFailureCodes.NotAuthorized,
                $"{PolicyEvaluator.DenialMessage(request, decision)} (the registry policy of {destination.Registry} must allow it)",
                retryable: false);
        }
    }

    private async Task CopyAsync(Copy copy, ReplicationManifest manifest, IReadOnlyList<string> tags, int depth, CancellationToken cancellationToken)
    {
        // An index lists manifests, which list blobs: nothing deeper is valid, so the depth bounds a cycle of bad data.
        if (depth > 2)
        {
            throw new ReplicationException(ReplicationFailureCodes.DestinationRefused, $"{manifest.Digest} nests indexes too deeply.", retryable: false);
        }

        foreach (var child in manifest.Children)
        {
            var childManifest = await copy.Source.GetManifestAsync(copy.Item.Source, child, cancellationToken)
                ?? throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The manifest {child} that {manifest.Digest} lists is gone from the source.", retryable: false);
            await CopyAsync(copy, childManifest, [], depth + 1, cancellationToken);
        }

        foreach (var (digest, _) in manifest.Blobs)
        {
            await LinkBlobAsync(copy, digest, cancellationToken);
        }

        // A copy into an image archived in the destination restores it there (ECR-NOTES §6).
        if (await store.Images.GetManifestAsync(copy.Repository.Id, manifest.Digest, cancellationToken) is { Archived: true })
        {
            await store.Lifecycle.SetStorageClassAsync(copy.Repository.Id, manifest.Digest, StorageClass.Standard, null, Event(copy, manifest.Digest, tags), cancellationToken);
        }

        foreach (var tag in tags.Count == 0 ? [null] : tags.Cast<string?>())
        {
            try
            {
                await manifests.PutReplicatedAsync(
                    Caller.Root(copy.Destination.Registry.Account),
                    copy.Destination,
                    tag,
                    manifest.Digest,
                    manifest.MediaType,
                    manifest.Content,
                    copy.Item.Source.Registry,
                    cancellationToken);
            }
            catch (WharfException e) when (e.Code == WharfErrorCode.TagImmutable)
            {
                throw new ReplicationException(ReplicationFailureCodes.TagImmutable, e.Message, retryable: false, e);
            }
            catch (WharfException e) when (e.Code is WharfErrorCode.Denied or WharfErrorCode.ManifestInvalid or WharfErrorCode.ManifestTooLarge)
            {
                throw new ReplicationException(ReplicationFailureCodes.DestinationRefused, e.Message, retryable: false, e);
            }
        }
    }

    private async Task LinkBlobAsync(Copy copy, Digest digest, CancellationToken cancellationToken)
    {
        // One blob store: the destination repository links the bytes the source already holds.
        if (await store.Blobs.GetLinkedBlobAsync(copy.Repository.Id, digest, cancellationToken) is not null)
        {
            return;
        }

        if (await store.Blobs.GetBlobAsync(digest, cancellationToken) is null)
        {
            throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The blob {digest} is gone from the source.", retryable: false);
        }

        // ...when they are sealed under the destination's key too. A destination under another key (a KMS key, or
        // AES256 beside a KMS source) gets its own sealed copy, from the source's bytes decrypted as they stream.
        if (await vault.StatAsync(BlobScope.Of(copy.Repository.Settings), digest, cancellationToken) is null)
        {
            await ImportAsync(copy, digest, cancellationToken);
            return;
        }

        if (!await store.Blobs.LinkBlobAsync(copy.Repository.Id, digest, time.GetUtcNow(), cancellationToken))
        {
            // Garbage collection claimed it between the read and the link: the next attempt sees how that ended.
            throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The blob {digest} is being deleted from the blob store.", retryable: true);
        }
    }

    private async Task ImportAsync(Copy copy, Digest digest, CancellationToken cancellationToken)
    {
        await using var source = await copy.Source.OpenBlobAsync(copy.Item.Source, digest, cancellationToken);
        await using var import = await uploads.StartImportAsync(copy.Repository, cancellationToken);
        await import.AppendAsync(source, null, cancellationToken);
        try
        {
            await import.CommitAsync(digest, null, cancellationToken);
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.DigestInvalid or WharfErrorCode.BlobUploadInvalid)
        {
            throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The blob {digest} of the source does not match its digest: {e.Message}", retryable: false, e);
        }
    }

    private OutboxEvent Event(Copy copy, Digest digest, IReadOnlyList<string> tags) =>
        EcrEvents.Replication(copy.Destination, digest, tags, copy.Item.Source.Registry, time.GetUtcNow());

    private sealed record Copy(ReplicationItem Item, RepositoryKey Destination, Repository Repository, IReplicationSource Source);
}
