using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Events;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;

namespace Wharf.Core.Lifecycle;

/// <summary>One image a preview would act on, as <c>GetLifecyclePolicyPreview</c> reports it.</summary>
public sealed record LifecyclePreviewEntry(string Digest, IReadOnlyList<string> Tags, DateTimeOffset PushedAt, string Action, int RulePriority, string StorageClass);

/// <summary>
/// What one run did to one repository: how many images it evaluated, how many the plan acts on, and how many
/// actions applied or were skipped because the image had changed (all three zero in a dry run).
/// </summary>
public sealed record LifecycleRunReport(RepositoryKey Repository, int Evaluated, int Planned, int Expired, int Transitioned, int Skipped);

/// <summary>
/// ECR's lifecycle policies: the policy APIs, previews, storage-class changes, and the run that
/// applies every repository's policy (the scheduled job and <c>wharf lifecycle run</c>). A run plans
/// with <see cref="LifecycleEvaluator"/> and applies each action only if the image is still as
/// planned, recording an <c>ECR Image Action</c> event with it.
/// </summary>
public sealed class LifecycleService(IMetadataStore store, RepositoryResolver repositories, ImageService images, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { TypeInfoResolver = CoreJsonContext.Default };

    /// <summary>A preview left <c>IN_PROGRESS</c> this long (its node died) no longer blocks a new one.</summary>
    public static readonly TimeSpan AbandonedPreview = TimeSpan.FromMinutes(5);

    public async Task<string> PutPolicyAsync(Caller caller, RepositoryKey key, string text, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.PutLifecyclePolicy, cancellationToken);
        Parse(text);
        return await store.Lifecycle.SetPolicyAsync(repository.Id, text, cancellationToken) ? text : throw RepositoryResolver.NameUnknown(key);
    }

    public async Task<LifecyclePolicyRecord> GetPolicyAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.GetLifecyclePolicy, cancellationToken);
        return await store.Lifecycle.GetPolicyAsync(repository.Id, cancellationToken) ?? throw NoPolicy(key);
    }

    /// <summary>Removes the policy; returns what it was.</summary>
    public async Task<LifecyclePolicyRecord> DeletePolicyAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.DeleteLifecyclePolicy, cancellationToken);
        var existing = await store.Lifecycle.GetPolicyAsync(repository.Id, cancellationToken) ?? throw NoPolicy(key);
        await store.Lifecycle.SetPolicyAsync(repository.Id, null, cancellationToken);
        return existing;
    }

    /// <summary>
    /// Runs the given policy (or the saved one) over the repository as it is now, without acting, and
    /// keeps the result for <see cref="GetPreviewAsync"/>. Returns the policy and the preview's status.
    /// </summary>
    public async Task<(string Policy, string Status)> StartPreviewAsync(Caller caller, RepositoryKey key, string? text, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.StartLifecyclePolicyPreview, cancellationToken);
        text ??= (await store.Lifecycle.GetPolicyAsync(repository.Id, cancellationToken))?.Text ?? throw NoPolicy(key);
        var policy = Parse(text);
        if (!await store.Lifecycle.TryStartPreviewAsync(repository.Id, text, time.GetUtcNow(), time.GetUtcNow() - AbandonedPreview, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.LifecyclePolicyPreviewInProgress);
        }

        try
        {
            var acted = new List<LifecycleDecision>();
            await EvaluateAsync(repository.Id, policy, time.GetUtcNow(), d =>
            {
                acted.Add(d);
                return Task.CompletedTask;
            }, cancellationToken);
            var entries = acted
                .OrderBy(d => d.RulePriority)
                .ThenBy(d => d.Image.PushedAt)
                .Select(d => new LifecyclePreviewEntry(
                    d.Image.Digest.ToString(),
                    d.Image.Tags,
                    d.Image.PushedAt,
                    d.Outcome == LifecycleOutcome.Expire ? "EXPIRE" : "TRANSITION",
                    d.RulePriority!.Value,
                    d.Image.StorageClass == StorageClass.Archive ? "ARCHIVE" : "STANDARD"))
                .ToList();
            await store.Lifecycle.CompletePreviewAsync(repository.Id, "COMPLETE", JsonSerializer.Serialize(entries, Json.TypeInfo<List<LifecyclePreviewEntry>>()), CancellationToken.None);
            return (text, "COMPLETE");
        }
        catch
        {
            await store.Lifecycle.CompletePreviewAsync(repository.Id, "FAILED", null, CancellationToken.None);
            throw;
        }
    }

    public async Task<(LifecyclePreviewRecord Preview, IReadOnlyList<LifecyclePreviewEntry> Results)> GetPreviewAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.GetLifecyclePolicyPreview, cancellationToken);
        var preview = await store.Lifecycle.GetPreviewAsync(repository.Id, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.LifecyclePolicyPreviewNotFound);
        return (preview, preview.ResultsJson is { } json ? JsonSerializer.Deserialize(json, Json.TypeInfo<List<LifecyclePreviewEntry>>())! : []);
    }

    /// <summary>
    /// ECR's <c>UpdateImageStorageClass</c>: archives an image (no longer pullable) or restores it.
    /// An image an index lists moves with its index, not alone. Returns the image and its new status.
    /// </summary>
    public async Task<(Digest Digest, string Status)> UpdateStorageClassAsync(Caller caller, RepositoryKey key, ImageRef id, StorageClass target, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.UpdateImageStorageClass, cancellationToken);
        ManifestRecord? record = null;
        if (id.Tag is not null)
        {
            record = await store.Images.GetManifestByTagAsync(repository.Id, id.Tag, cancellationToken);
        }
        else if (Digest.TryParse(id.Digest, out var digest))
        {
            record = await store.Images.GetManifestAsync(repository.Id, digest, cancellationToken);
        }

        if (record is null || (id.Digest is not null && id.Tag is not null && record.Digest.ToString() != id.Digest))
        {
            throw new WharfException(WharfErrorCode.ImageNotFound, $"The image with imageId {id} does not exist within the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");
        }

        var summaries = await store.Images.GetImagesAsync(repository.Id, [record.Digest], cancellationToken);
        var tags = summaries.Count > 0 ? summaries[0].Tags : [];
        var evt = EcrEvents.Image(key, record.Digest, tags, "UPDATE_STORAGE_CLASS", time.GetUtcNow(), target == StorageClass.Archive ? "ARCHIVE" : "STANDARD");
        return await store.Lifecycle.SetStorageClassAsync(repository.Id, record.Digest, target, null, evt, cancellationToken) switch
        {
            LifecycleApplyResult.Applied => (record.Digest, target == StorageClass.Archive ? "ARCHIVED" : "ACTIVE"),
            LifecycleApplyResult.ReferencedByIndex => throw new WharfException(
                WharfErrorCode.ImageStorageClassUpdateNotSupported,
                $"The image {record.Digest} is referenced by an image index in the repository; archive or restore the index instead."),
            _ => throw new WharfException(WharfErrorCode.ImageNotFound, $"The image with imageId {id} does not exist within the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'"),
        };
    }

    /// <summary>
    /// Applies every repository's policy (or one repository's): plans, then expires and archives what
    /// the plan says — each only if the image is unchanged since — and moves <c>lastEvaluatedAt</c>.
    /// A dry run plans and reports without acting.
    /// </summary>
    public Task<IReadOnlyList<LifecycleRunReport>> RunAsync(RepositoryKey? only, bool dryRun, CancellationToken cancellationToken) =>
        RunAsync(only, dryRun, null, null, cancellationToken);

    /// <summary>The phase <see cref="RunAsync(RepositoryKey?, bool, IProgress{WorkProgress}?, Action{RepositoryKey, LifecycleDecision}?, CancellationToken)"/> reports: repositories done of those with a policy.</summary>
    public const string RunPhase = "applying lifecycle policies";

    /// <summary>Images read per page of the evaluation: its memory, whatever the repository's size.</summary>
    public const int PageSize = 500;

    /// <summary>
    /// As above, reporting each repository done (of those with a policy) to <paramref name="progress"/>, and each
    /// action the plan holds (before it is applied; oldest pushed first) to <paramref name="onAction"/>.
    /// </summary>
    public async Task<IReadOnlyList<LifecycleRunReport>> RunAsync(RepositoryKey? only, bool dryRun, IProgress<WorkProgress>? progress, Action<RepositoryKey, LifecycleDecision>? onAction, CancellationToken cancellationToken)
    {
        var reports = new List<LifecycleRunReport>();
        var targets = (await store.Lifecycle.ListTargetsAsync(cancellationToken)).Where(t => only is null || t.Key == only).ToList();
        progress?.Report(new WorkProgress(RunPhase, 0, targets.Count));
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reports.Add(await RunOneAsync(target, dryRun, onAction, cancellationToken));
            progress?.Report(new WorkProgress(RunPhase, reports.Count, targets.Count));
        }

        return reports;
    }

    private async Task<LifecycleRunReport> RunOneAsync(LifecycleTarget target, bool dryRun, Action<RepositoryKey, LifecycleDecision>? onAction, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        LifecyclePolicy policy;
        try
        {
            policy = LifecyclePolicy.Parse(target.Policy);
        }
        catch (LifecyclePolicyException)
        {
            // A stored policy this version no longer accepts acts on nothing; the others still run.
            return new LifecycleRunReport(target.Key, 0, 0, 0, 0, 0);
        }

        int planned = 0, expired = 0, transitioned = 0, skipped = 0;
        var evaluated = await EvaluateAsync(target.RepositoryId, policy, now, async decision =>
        {
            planned++;
            onAction?.Invoke(target.Key, decision);
            if (dryRun)
            {
                return;
            }

            var image = decision.Image;
            var result = decision.Outcome == LifecycleOutcome.Expire
                ? await images.ExpireAsync(target.RepositoryId, image, EcrEvents.Image(target.Key, image.Digest, image.Tags, "DELETE", now, rulePriority: decision.RulePriority), cancellationToken)
                : await store.Lifecycle.SetStorageClassAsync(target.RepositoryId, image.Digest, StorageClass.Archive, image, EcrEvents.Image(target.Key, image.Digest, image.Tags, "UPDATE_STORAGE_CLASS", now, "ARCHIVE", decision.RulePriority), cancellationToken);
            if (result != LifecycleApplyResult.Applied)
            {
                skipped++;
            }
            else if (decision.Outcome == LifecycleOutcome.Expire)
            {
                expired++;
            }
            else
            {
                transitioned++;
            }
        }, cancellationToken);

        if (!dryRun)
        {
            await store.Lifecycle.MarkEvaluatedAsync(target.RepositoryId, now, cancellationToken);
        }

        return new LifecycleRunReport(target.Key, evaluated, planned, expired, transitioned, skipped);
    }

    /// <summary>
    /// Evaluates the policy over the repository in pages (<see cref="LifecyclePass"/>): first the youngest images
    /// until every count rule has its N-th, then every image oldest pushed first (the order ECR expires in),
    /// handing each image a rule acts on to <paramref name="onAction"/> (which may act on it at once: the walk goes
    /// on from its cursor). Holds a page and one entry per rule; returns the number of images evaluated.
    /// </summary>
    private async Task<int> EvaluateAsync(long repositoryId, LifecyclePolicy policy, DateTimeOffset now, Func<LifecycleDecision, Task> onAction, CancellationToken cancellationToken)
    {
        var pass = new LifecyclePass(policy, now);
        LifecycleImage? after = null;
        while (pass.NeedsRanking)
        {
            var page = await store.Lifecycle.ListImagesAsync(repositoryId, LifecycleImageOrder.YoungestFirst, after, PageSize, cancellationToken);
            foreach (var image in page)
            {
                if (!pass.NeedsRanking)
                {
                    break;
                }

                pass.Rank(image);
            }

            if (page.Count < PageSize)
            {
                break;
            }

            after = page[^1];
        }

        var evaluated = 0;
        after = null;
        while (true)
        {
            var page = await store.Lifecycle.ListImagesAsync(repositoryId, LifecycleImageOrder.OldestPushedFirst, after, PageSize, cancellationToken);
            foreach (var image in page)
            {
                evaluated++;
                var decision = pass.Decide(image);
                if (decision.Outcome != LifecycleOutcome.Keep)
                {
                    await onAction(decision);
                }
            }

            if (page.Count < PageSize)
            {
                return evaluated;
            }

            cancellationToken.ThrowIfCancellationRequested();
            after = page[^1];
        }
    }

    /// <summary>Parses a lifecycle policy a caller gives; a policy ECR would refuse is <c>InvalidParameterException</c> with the reason.</summary>
    public static LifecyclePolicy Parse(string text)
    {
        try
        {
            return LifecyclePolicy.Parse(text);
        }
        catch (LifecyclePolicyException e)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, e.Message);
        }
    }

    private static WharfException NoPolicy(RepositoryKey key) =>
        new(WharfErrorCode.LifecyclePolicyNotFound, $"Lifecycle policy does not exist for the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");
}
