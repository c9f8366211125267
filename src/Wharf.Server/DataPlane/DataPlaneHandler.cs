using System.Globalization;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Uploads;
using Wharf.Server.Errors;
using Wharf.Server.Identity;

namespace Wharf.Server.DataPlane;

/// <summary>Dispatches every /v2 request to the application services and writes the spec's headers.</summary>
internal sealed partial class DataPlaneHandler(
    IRequestIdentityResolver identities,
    BlobService blobs,
    Core.PullThroughCache.PullThroughBlobs pullThroughBlobs,
    UploadService uploads,
    ManifestService manifests,
    ListingService listings,
    Hosting.RequestLimits limits,
    Hosting.UploadSessionLimits uploadLimits,
    Microsoft.Extensions.Options.IOptions<Hosting.WharfOptions> options,
    ILogger<DataPlaneHandler> logger,
    Core.Repositories.RepositoryResolver resolver)
{
    private readonly PrivateDataPlaneScope privateScope = new(identities);

    /// <summary>The private registries' /v2 (the main port).</summary>
    public Task HandleAsync(HttpContext context) => HandleAsync(context, privateScope);

    /// <summary>A /v2 request of <paramref name="scope"/>'s surface (the private one, or the public address's).</summary>
    public async Task HandleAsync(HttpContext context, IDataPlaneScope scope)
    {
        context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        try
        {
            var path = context.Request.Path.Value ?? string.Empty;
            var tail = path.Length > 4 ? path[4..] : string.Empty;
            // Authentication comes first: an anonymous caller learns nothing, not even which routes exist.
            var identity = await scope.ResolveAsync(context, context.RequestAborted);
            var record = Hosting.RequestRecord.Of(context);
            if (record is not null)
            {
                // The public address's /v2 is ECR Public's, as CloudTrail names its pulls (the surface is set by its handler).
                record.EventSource = record.Surface == "public" ? "ecr-public.amazonaws.com" : "ecr.amazonaws.com";
                record.Caller = identity.Caller;
            }

            var route = DataPlaneRoute.Parse(tail);
            if (record is not null)
            {
                record.Operation = OperationOf(route.Kind, context.Request.Method);
            }

            limits.Throttle(context, identity.Caller, Hosting.RequestLimits.ForRegistry(route.Kind, context.Request.Method));
            Core.Primitives.RepositoryKey? repository = null;
            if (route.Name is { } name)
            {
                repository = await scope.RepositoryAsync(identity, name, context.RequestAborted)
                    ?? throw new WharfException(WharfErrorCode.NameUnknown, $"The repository with name '{name}' does not exist");
                if (repository.Name != name)
                {
                    RewriteLocation(context, repository.Name.Value, name.Value);
                }

                record?.Repository = repository;
                record?.Region = repository.Registry.Region;
            }

            var request = new DataPlaneRequest(context, route, identity, scope, repository);
            await DispatchAsync(request);
        }
        catch (Exception e)
        {
            await OciErrorWriter.HandleAsync(context, e, logger);
        }
    }

    /// <summary>
    /// Where the route's name is not the repository's (the public address's <c>&lt;alias&gt;/&lt;repository&gt;</c>),
    /// the services' <c>Location</c> headers (<c>/v2/&lt;repository&gt;/…</c>) are rewritten to the name the client used.
    /// </summary>
    private static void RewriteLocation(HttpContext context, string repositoryName, string routeName)
    {
        var from = $"/v2/{repositoryName}/";
        var to = $"/v2/{routeName}/";
        context.Response.OnStarting(() =>
        {
            var location = context.Response.Headers.Location.ToString();
            if (location.StartsWith(from, StringComparison.Ordinal))
            {
                context.Response.Headers.Location = to + location[from.Length..];
            }

            return Task.CompletedTask;
        });
    }

    private Task DispatchAsync(DataPlaneRequest r)
    {
        var method = r.Context.Request.Method;
        var get = HttpMethods.IsGet(method);
        var head = HttpMethods.IsHead(method);
        return r.Route.Kind switch
        {
            RouteKind.Base when get || head => WriteJsonAsync(r.Context, "{}"u8.ToArray(), "application/json", head),
            RouteKind.Catalog when get || head => CatalogAsync(r, head),
            RouteKind.Tags when get || head => TagsAsync(r, head),
            RouteKind.Manifest when get || head => GetManifestAsync(r, head),
            RouteKind.Manifest when HttpMethods.IsPut(method) => PutManifestAsync(r),
            RouteKind.Manifest when HttpMethods.IsDelete(method) => DeleteManifestAsync(r),
            RouteKind.Referrers when get || head => ReferrersAsync(r, head),
            RouteKind.Blob when head => HeadBlobAsync(r),
            RouteKind.Blob when get => GetBlobAsync(r),
            RouteKind.Blob when HttpMethods.IsDelete(method) => DeleteBlobAsync(r),
            RouteKind.UploadStart when HttpMethods.IsPost(method) => StartUploadAsync(r),
            RouteKind.Upload when get => UploadStatusAsync(r),
            RouteKind.Upload when HttpMethods.IsPatch(method) => PatchUploadAsync(r),
            RouteKind.Upload when HttpMethods.IsPut(method) => CompleteUploadAsync(r),
            RouteKind.Upload when HttpMethods.IsDelete(method) => CancelUploadAsync(r),
            _ => throw new WharfException(WharfErrorCode.MethodNotAllowed, $"{method} is not supported on this route")
            {
                Headers = new Dictionary<string, string> { ["Allow"] = Allowed(r.Route.Kind) },
            },
        };
    }

    /// <summary>The request's <see cref="Hosting.RequestRecord.Operation"/>; null for a method the route does not serve.</summary>
    internal static string? OperationOf(RouteKind kind, string method)
    {
        var read = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        return kind switch
        {
            RouteKind.Base when read => Hosting.DataPlaneOperations.Base,
            RouteKind.Catalog when read => Hosting.DataPlaneOperations.Catalog,
            RouteKind.Tags when read => Hosting.DataPlaneOperations.ListTags,
            RouteKind.Manifest when HttpMethods.IsGet(method) => Hosting.DataPlaneOperations.GetManifest,
            RouteKind.Manifest when HttpMethods.IsHead(method) => Hosting.DataPlaneOperations.HeadManifest,
            RouteKind.Manifest when HttpMethods.IsPut(method) => Hosting.DataPlaneOperations.PutManifest,
            RouteKind.Manifest when HttpMethods.IsDelete(method) => Hosting.DataPlaneOperations.DeleteManifest,
            RouteKind.Referrers when read => Hosting.DataPlaneOperations.Referrers,
            RouteKind.Blob when HttpMethods.IsGet(method) => Hosting.DataPlaneOperations.GetBlob,
            RouteKind.Blob when HttpMethods.IsHead(method) => Hosting.DataPlaneOperations.HeadBlob,
            RouteKind.Blob when HttpMethods.IsDelete(method) => Hosting.DataPlaneOperations.DeleteBlob,
            RouteKind.UploadStart when HttpMethods.IsPost(method) => Hosting.DataPlaneOperations.StartUpload,
            RouteKind.Upload when HttpMethods.IsGet(method) => Hosting.DataPlaneOperations.UploadStatus,
            RouteKind.Upload when HttpMethods.IsPatch(method) => Hosting.DataPlaneOperations.UploadChunk,
            RouteKind.Upload when HttpMethods.IsPut(method) => Hosting.DataPlaneOperations.CompleteUpload,
            RouteKind.Upload when HttpMethods.IsDelete(method) => Hosting.DataPlaneOperations.CancelUpload,
            _ => null,
        };
    }

    private static string Allowed(RouteKind kind) => kind switch
    {
        RouteKind.Manifest => "GET, HEAD, PUT, DELETE",
        RouteKind.Blob => "GET, HEAD, DELETE",
        RouteKind.UploadStart => "POST",
        RouteKind.Upload => "GET, PATCH, PUT, DELETE",
        _ => "GET, HEAD",
    };

    private static Task WriteJsonAsync(HttpContext context, byte[] body, string contentType, bool head)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return head ? Task.CompletedTask : context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static int? ParseN(HttpContext context)
    {
        var text = context.Request.Query["n"].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new WharfException(WharfErrorCode.PaginationInvalid, $"n must be a non-negative integer, not '{text}'");
    }

    private static string? Query(HttpContext context, string name)
    {
        var value = context.Request.Query[name].ToString();
        return value.Length == 0 ? null : value;
    }
}

/// <summary>One /v2 request after routing and identity resolution.</summary>
internal sealed record DataPlaneRequest(HttpContext Context, DataPlaneRoute Route, RequestIdentity Identity, IDataPlaneScope Scope, Core.Primitives.RepositoryKey? Key)
{
    /// <summary>The repository the route names (routes with a name only).</summary>
    public Core.Primitives.RepositoryKey Repository => Key ?? throw new InvalidOperationException("this route names no repository");

    public CancellationToken Aborted => Context.RequestAborted;
}
