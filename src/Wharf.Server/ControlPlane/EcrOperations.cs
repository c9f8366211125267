using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Replication;
using Wharf.Core.Repositories;
using Wharf.Core.Uploads;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// The ECR operations Wharf implements, by name. Every other operation of the model answers
/// <c>UnsupportedOperationException</c> naming it (docs/ecr-api.md lists each one's status).
/// </summary>
internal sealed partial class EcrOperations(
    RepositoryService repositories,
    ImageService images,
    LayerService layers,
    LifecycleService lifecycle,
    ManifestService manifests,
    PullTimeExclusions exclusions,
    PageTokens tokens,
    LayerDownloads downloads,
    RegistryAddress addresses,
    AuthTokens authTokens,
    ReplicationConfigurationService replication,
    CreationTemplateService templates,
    PullThroughCacheRuleService pullThroughCacheRules,
    LayerUploadApi layerUploads) : IAwsJsonService
{
    private readonly LayerUploadApi layerUploads = layerUploads;

    /// <summary>ECR's default page size when <c>maxResults</c> is absent.</summary>
    public const int DefaultPageSize = 100;

    private static readonly FrozenDictionary<string, Func<EcrOperations, EcrCall, Task<JsonObject>>> Table =
        new Dictionary<string, Func<EcrOperations, EcrCall, Task<JsonObject>>>
        {
            ["CreateRepository"] = (o, c) => o.CreateRepositoryAsync(c),
            ["DescribeRepositories"] = (o, c) => o.DescribeRepositoriesAsync(c),
            ["DeleteRepository"] = (o, c) => o.DeleteRepositoryAsync(c),
            ["PutImageTagMutability"] = (o, c) => o.PutImageTagMutabilityAsync(c),
            ["PutImageScanningConfiguration"] = (o, c) => o.PutImageScanningConfigurationAsync(c),
            ["DescribeRegistry"] = (o, c) => o.DescribeRegistryAsync(c),
            ["ListImages"] = (o, c) => o.ListImagesAsync(c),
            ["DescribeImages"] = (o, c) => o.DescribeImagesAsync(c),
            ["BatchGetImage"] = (o, c) => o.BatchGetImageAsync(c),
            ["BatchDeleteImage"] = (o, c) => o.BatchDeleteImageAsync(c),
            ["PutImage"] = (o, c) => o.PutImageAsync(c),
            ["BatchCheckLayerAvailability"] = (o, c) => o.layerUploads.BatchCheckLayerAvailabilityAsync(c, c.Repository),
            ["InitiateLayerUpload"] = (o, c) => o.layerUploads.InitiateLayerUploadAsync(c, c.Repository),
            ["UploadLayerPart"] = (o, c) => o.layerUploads.UploadLayerPartAsync(c, c.Repository),
            ["CompleteLayerUpload"] = (o, c) => o.layerUploads.CompleteLayerUploadAsync(c, c.Repository),
            ["GetDownloadUrlForLayer"] = (o, c) => o.GetDownloadUrlForLayerAsync(c),
            ["TagResource"] = (o, c) => o.TagResourceAsync(c),
            ["UntagResource"] = (o, c) => o.UntagResourceAsync(c),
            ["ListTagsForResource"] = (o, c) => o.ListTagsForResourceAsync(c),
            ["GetAuthorizationToken"] = (o, c) => o.GetAuthorizationTokenAsync(c),
            ["SetRepositoryPolicy"] = (o, c) => o.SetRepositoryPolicyAsync(c),
            ["GetRepositoryPolicy"] = (o, c) => o.GetRepositoryPolicyAsync(c),
            ["DeleteRepositoryPolicy"] = (o, c) => o.DeleteRepositoryPolicyAsync(c),
            ["PutRegistryPolicy"] = (o, c) => o.PutRegistryPolicyAsync(c),
            ["GetRegistryPolicy"] = (o, c) => o.GetRegistryPolicyAsync(c),
            ["DeleteRegistryPolicy"] = (o, c) => o.DeleteRegistryPolicyAsync(c),
            ["GetAccountSetting"] = (o, c) => o.GetAccountSettingAsync(c),
            ["PutAccountSetting"] = (o, c) => o.PutAccountSettingAsync(c),
            ["PutLifecyclePolicy"] = (o, c) => o.PutLifecyclePolicyAsync(c),
            ["GetLifecyclePolicy"] = (o, c) => o.GetLifecyclePolicyAsync(c),
            ["DeleteLifecyclePolicy"] = (o, c) => o.DeleteLifecyclePolicyAsync(c),
            ["StartLifecyclePolicyPreview"] = (o, c) => o.StartLifecyclePolicyPreviewAsync(c),
            ["GetLifecyclePolicyPreview"] = (o, c) => o.GetLifecyclePolicyPreviewAsync(c),
            ["UpdateImageStorageClass"] = (o, c) => o.UpdateImageStorageClassAsync(c),
            ["PutRegistryScanningConfiguration"] = (o, c) => o.PutRegistryScanningConfigurationAsync(c),
            ["GetRegistryScanningConfiguration"] = (o, c) => o.GetRegistryScanningConfigurationAsync(c),
            ["BatchGetRepositoryScanningConfiguration"] = (o, c) => o.BatchGetRepositoryScanningConfigurationAsync(c),
            ["StartImageScan"] = (o, c) => o.StartImageScanAsync(c),
            ["DescribeImageScanFindings"] = (o, c) => o.DescribeImageScanFindingsAsync(c),
            ["ListImageReferrers"] = (o, c) => o.ListImageReferrersAsync(c),
            ["RegisterPullTimeUpdateExclusion"] = (o, c) => o.RegisterPullTimeUpdateExclusionAsync(c),
            ["DeregisterPullTimeUpdateExclusion"] = (o, c) => o.DeregisterPullTimeUpdateExclusionAsync(c),
            ["ListPullTimeUpdateExclusions"] = (o, c) => o.ListPullTimeUpdateExclusionsAsync(c),
            ["DescribeImageReplicationStatus"] = (_, c) => DescribeImageReplicationStatusAsync(c),
            ["PutReplicationConfiguration"] = (o, c) => o.PutReplicationConfigurationAsync(c),
            ["CreateRepositoryCreationTemplate"] = (o, c) => o.CreateRepositoryCreationTemplateAsync(c),
            ["DescribeRepositoryCreationTemplates"] = (o, c) => o.DescribeRepositoryCreationTemplatesAsync(c),
            ["UpdateRepositoryCreationTemplate"] = (o, c) => o.UpdateRepositoryCreationTemplateAsync(c),
            ["DeleteRepositoryCreationTemplate"] = (o, c) => o.DeleteRepositoryCreationTemplateAsync(c),
            ["CreatePullThroughCacheRule"] = (o, c) => o.CreatePullThroughCacheRuleAsync(c),
            ["DescribePullThroughCacheRules"] = (o, c) => o.DescribePullThroughCacheRulesAsync(c),
            ["UpdatePullThroughCacheRule"] = (o, c) => o.UpdatePullThroughCacheRuleAsync(c),
            ["DeletePullThroughCacheRule"] = (o, c) => o.DeletePullThroughCacheRuleAsync(c),
            ["ValidatePullThroughCacheRule"] = (o, c) => o.ValidatePullThroughCacheRuleAsync(c),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    public ServiceModel Model => ServiceModel.Ecr;

    public RequestClass Classify(string operation) => RequestLimits.ForEcr(operation);

    /// <summary>The operations implemented (the docs test compares this with docs/ecr-api.md).</summary>
    public static IReadOnlyCollection<string> Implemented => Table.Keys;

    public Task<JsonObject> InvokeAsync(EcrCall call)
    {
        // A given registryId is checked first, whether or not the operation reads it (see EcrCall.Registry).
        _ = call.Registry;
        return Table.TryGetValue(call.Operation, out var operation)
            ? operation(this, call)
            : throw new WharfException(
                WharfErrorCode.UnsupportedOperation,
                $"Wharf does not implement {call.Operation} yet; docs/ecr-api.md lists the status of every ECR operation.");
    }

    /// <summary><c>maxResults</c> (the model bounds it) or ECR's default.</summary>
    private static int PageSize(EcrCall call) => (int)(call.Long("maxResults") ?? DefaultPageSize);

    /// <summary>ECR refuses paging members together with an explicit id list.</summary>
    private static void RefusePagingWith(EcrCall call, string listMember)
    {
        foreach (var member in new[] { "maxResults", "nextToken" })
        {
            if (call.Get(member) is not null)
            {
                throw EcrCall.Invalid(member, $"{member} cannot be used together with {listMember}");
            }
        }
    }

    /// <summary>The cursor of <c>nextToken</c>, bound to this call's operation, registry, repository and <paramref name="filter"/>.</summary>
    private async Task<string?> CursorAsync(EcrCall call, string filter) =>
        call.String("nextToken") is { } token ? await tokens.OpenAsync(Scope(call, filter), token, call.Aborted) : null;

    private Task<string> NextTokenAsync(EcrCall call, string filter, string cursor) =>
        tokens.SealAsync(Scope(call, filter), cursor, call.Aborted);

    private static string Scope(EcrCall call, string filter) =>
        $"{call.Operation}|{call.Registry.Account}|{call.Registry.Region}|{call.String("repositoryName")}|{filter}";
}
