using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Public;
using Wharf.Core.Repositories;
using Wharf.Core.Uploads;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// The ECR Public API (botocore's <c>ecr-public</c> model: <c>X-Amz-Target: SpencerFrontendService.*</c>,
/// SigV4 service <c>ecr-public</c>) on the same <c>POST /</c> as ECR's. Every call addresses a public
/// registry, <see cref="Core.Primitives.RegistryKey.Public"/>, and runs on the services ECR's operations
/// use — repositories, images, layers and uploads are the same machinery with public keys — plus
/// <see cref="PublicRegistryService"/> for registries, aliases and catalog data. All 23 operations are
/// implemented (docs/ecr-api.md, "ECR Public API").
/// </summary>
internal sealed partial class EcrPublicOperations(
    RepositoryService repositories,
    ImageService images,
    PublicRegistryService registries,
    PageTokens tokens,
    AuthTokens authTokens,
    IPublicAddress publicAddress,
    LayerUploadApi layerUploads) : IAwsJsonService
{
    private readonly LayerUploadApi layerUploads = layerUploads;

    /// <summary>ECR Public's default page size when <c>maxResults</c> is absent.</summary>
    public const int DefaultPageSize = 100;

    private static readonly FrozenDictionary<string, Func<EcrPublicOperations, EcrPublicCall, Task<JsonObject>>> Table =
        new Dictionary<string, Func<EcrPublicOperations, EcrPublicCall, Task<JsonObject>>>
        {
            ["GetAuthorizationToken"] = (o, c) => o.GetAuthorizationTokenAsync(c),
            ["CreateRepository"] = (o, c) => o.CreateRepositoryAsync(c),
            ["DescribeRepositories"] = (o, c) => o.DescribeRepositoriesAsync(c),
            ["DeleteRepository"] = (o, c) => o.DeleteRepositoryAsync(c),
            ["SetRepositoryPolicy"] = (o, c) => o.SetRepositoryPolicyAsync(c),
            ["GetRepositoryPolicy"] = (o, c) => o.GetRepositoryPolicyAsync(c),
            ["DeleteRepositoryPolicy"] = (o, c) => o.DeleteRepositoryPolicyAsync(c),
            ["DescribeImages"] = (o, c) => o.DescribeImagesAsync(c),
            ["DescribeImageTags"] = (o, c) => o.DescribeImageTagsAsync(c),
            ["BatchDeleteImage"] = (o, c) => o.BatchDeleteImageAsync(c),
            ["PutImage"] = (o, c) => o.PutImageAsync(c),
            ["BatchCheckLayerAvailability"] = (o, c) => o.layerUploads.BatchCheckLayerAvailabilityAsync(c.Call, c.Repository),
            ["InitiateLayerUpload"] = (o, c) => o.layerUploads.InitiateLayerUploadAsync(c.Call, c.Repository),
            ["UploadLayerPart"] = (o, c) => o.layerUploads.UploadLayerPartAsync(c.Call, c.Repository),
            ["CompleteLayerUpload"] = (o, c) => o.layerUploads.CompleteLayerUploadAsync(c.Call, c.Repository),
            ["TagResource"] = (o, c) => o.TagResourceAsync(c),
            ["UntagResource"] = (o, c) => o.UntagResourceAsync(c),
            ["ListTagsForResource"] = (o, c) => o.ListTagsForResourceAsync(c),
            ["DescribeRegistries"] = (o, c) => o.DescribeRegistriesAsync(c),
            ["GetRegistryCatalogData"] = (o, c) => o.GetRegistryCatalogDataAsync(c),
            ["PutRegistryCatalogData"] = (o, c) => o.PutRegistryCatalogDataAsync(c),
            ["GetRepositoryCatalogData"] = (o, c) => o.GetRepositoryCatalogDataAsync(c),
            ["PutRepositoryCatalogData"] = (o, c) => o.PutRepositoryCatalogDataAsync(c),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    public ServiceModel Model => ServiceModel.EcrPublic;

    public RequestClass Classify(string operation) => RequestLimits.ForEcrPublic(operation);

    /// <summary>The operations implemented (the docs test compares this with docs/ecr-api.md).</summary>
    public static IReadOnlyCollection<string> Implemented => Table.Keys;

    public async Task<JsonObject> InvokeAsync(EcrCall call)
    {
        var operation = Table.TryGetValue(call.Operation, out var found)
            ? found
            : throw new WharfException(
                WharfErrorCode.UnsupportedOperation,
                $"Wharf does not implement the ECR Public operation {call.Operation}; docs/ecr-api.md lists the status of every ECR Public operation.");
        return await operation(this, await EcrPublicCall.ResolveAsync(call, Model, registries));
    }

    /// <summary>How clients write the public address (<c>Public:Host</c>, or the public listener's host and port).</summary>
    private string PublicAuthority => publicAddress.Authority;

    /// <summary><c>maxResults</c> (the model bounds it) or the default.</summary>
    private static int PageSize(EcrPublicCall call) => (int)(call.Call.Long("maxResults") ?? DefaultPageSize);

    /// <summary>ECR Public, as ECR, refuses paging members together with an explicit id list.</summary>
    private static void RefusePagingWith(EcrPublicCall call, string listMember)
    {
        foreach (var member in new[] { "maxResults", "nextToken" })
        {
            if (call.Get(member) is not null)
            {
                throw EcrCall.Invalid(member, $"{member} cannot be used together with {listMember}");
            }
        }
    }

    /// <summary>The cursor of <c>nextToken</c>, bound to this call's operation, public registry and repository.</summary>
    private async Task<string?> CursorAsync(EcrPublicCall call) =>
        call.String("nextToken") is { } token ? await tokens.OpenAsync(Scope(call), token, call.Aborted) : null;

    private Task<string> NextTokenAsync(EcrPublicCall call, string cursor) =>
        tokens.SealAsync(Scope(call), cursor, call.Aborted);

    // "ecr-public|" keeps a token of ECR's operation of the same name (same account) from opening here.
    private static string Scope(EcrPublicCall call) =>
        $"ecr-public|{call.Operation}|{call.Registry.Account}|{call.Registry.Region}|{call.String("repositoryName")}";
}
