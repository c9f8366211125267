using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;

namespace Wharf.Server.DataPlane;

internal sealed partial class DataPlaneHandler
{
    private async Task GetManifestAsync(DataPlaneRequest r, bool head)
    {
        if (!head)
        {
            r.Scope.BeforePull(r.Context, r.Identity.Caller);
        }

        var record = await manifests.GetAsync(r.Identity.Caller, r.Repository, await ExistingReferenceAsync(r, delete: false), isPull: !head, r.Aborted);
        var response = r.Context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = record.MediaType;
        response.ContentLength = record.Content.Length;
        response.Headers["Docker-Content-Digest"] = record.Digest.ToString();
        response.Headers.ETag = $"\"{record.Digest}\"";
        if (!head)
        {
            await response.Body.WriteAsync(record.Content, r.Aborted);
        }
    }

    private async Task PutManifestAsync(DataPlaneRequest r)
    {
        var context = r.Context;
        var reference = r.Route.ReferenceArgument();
        if (context.Request.ContentLength > DataPlaneSettings.MaxManifestBytes)
        {
            throw new WharfException(WharfErrorCode.ManifestTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = DataPlaneSettings.MaxManifestBytes;
        }

        using var buffer = new MemoryStream(context.Request.ContentLength is { } length ? (int)length : 4096);
        await context.Request.Body.CopyToAsync(buffer, r.Aborted);
        var content = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        var pushed = await ReplicatedFromAsync(r) is { } origin
            ? await manifests.PutReplicatedAsync(
                r.Identity.Caller,
                r.Repository,
                reference.IsDigest ? null : reference.Tag.Value,
                reference.IsDigest ? reference.Digest.Value : Digest.Compute(DigestAlgorithm.Sha256, content.Span),
                context.Request.ContentType,
                content,
                origin,
                r.Aborted)
            : await manifests.PutAsync(r.Identity.Caller, r.Repository, reference, context.Request.ContentType, content, r.Aborted);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{r.Route.Name}/manifests/{pushed.Digest}";
        response.Headers["Docker-Content-Digest"] = pushed.Digest.ToString();
        if (pushed.Subject is { } subject)
        {
            response.Headers["OCI-Subject"] = subject.ToString();
        }

        response.ContentLength = 0;
    }

    /// <summary>
    /// The registry a replicated copy comes from (another Wharf's remote target names it in
    /// <c>X-Wharf-Replicated-From</c>), or null for an ordinary push. Only a caller allowed
    /// <c>ecr:ReplicateImage</c> on the repository may mark a copy so: its event is then an
    /// <c>ECR Replication Action</c>, which this Wharf does not replicate again (no loop between paired sites).
    /// </summary>
    private async Task<RegistryKey?> ReplicatedFromAsync(DataPlaneRequest r)
    {
        if (r.Context.Request.Headers[Replication.RemoteWharfTarget.ReplicatedFromHeader].ToString() is not { Length: > 0 } value)
        {
            return null;
        }

        if (value.Split('/') is not [var account, var region] || !AccountId.TryParse(account, out var accountId) || region.Length == 0)
        {
            throw new WharfException(WharfErrorCode.ManifestInvalid, $"{Replication.RemoteWharfTarget.ReplicatedFromHeader} must name the source registry as <account>/<region>, not '{value}'");
        }

        await resolver.AuthorizeAsync(r.Identity.Caller, r.Repository.Registry, EcrActions.ReplicateImage, r.Repository.Arn, r.Aborted);
        return new RegistryKey(accountId, region);
    }

    private async Task DeleteManifestAsync(DataPlaneRequest r)
    {
        await manifests.DeleteAsync(r.Identity.Caller, r.Repository, await ExistingReferenceAsync(r, delete: true), r.Aborted);
        r.Context.Response.StatusCode = StatusCodes.Status202Accepted;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>The reference of a GET, HEAD or DELETE; one that is not a valid tag names no manifest (404, not 400).</summary>
    private async Task<Reference> ExistingReferenceAsync(DataPlaneRequest r, bool delete)
    {
        try
        {
            return r.Route.ReferenceArgument();
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.TagInvalid)
        {
            throw await manifests.UnknownReferenceAsync(r.Identity.Caller, r.Repository, r.Route.Argument!, delete, r.Aborted);
        }
    }

    private async Task ReferrersAsync(DataPlaneRequest r, bool head)
    {
        var subject = r.Route.DigestArgument();
        var artifactType = Query(r.Context, "artifactType");
        var body = await manifests.GetReferrersAsync(r.Identity.Caller, r.Repository, subject, artifactType, r.Aborted);
        if (artifactType is not null)
        {
            r.Context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        }

        await WriteJsonAsync(r.Context, body, MediaTypes.OciIndex, head);
    }

    private async Task TagsAsync(DataPlaneRequest r, bool head)
    {
        var n = ParseN(r.Context);
        var page = await listings.ListTagsAsync(r.Identity.Caller, r.Repository, n, Query(r.Context, "last"), r.Aborted);
        var body = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("name", r.Route.Name!.Value);
            WriteStrings(writer, "tags", page.Items);
            writer.WriteEndObject();
        }

        NextLink(r.Context, $"/v2/{r.Route.Name}/tags/list", n ?? page.Items.Count, page.Last);
        await WriteJsonAsync(r.Context, body.WrittenSpan.ToArray(), "application/json", head);
    }

    private async Task CatalogAsync(DataPlaneRequest r, bool head)
    {
        if (!r.Scope.HasCatalog)
        {
            throw new WharfException(WharfErrorCode.UnsupportedOperation, "the public address lists no repositories; search the gallery instead");
        }

        var n = ParseN(r.Context);
        var page = await listings.ListRepositoriesAsync(r.Identity.Caller, r.Identity.Registry, n, Query(r.Context, "last"), r.Aborted);
        var body = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            WriteStrings(writer, "repositories", page.Items);
            writer.WriteEndObject();
        }

        NextLink(r.Context, "/v2/_catalog", n ?? page.Items.Count, page.Last);
        await WriteJsonAsync(r.Context, body.WrittenSpan.ToArray(), "application/json", head);
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> items)
    {
        writer.WriteStartArray(name);
        foreach (var item in items)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }

    private static void NextLink(HttpContext context, string path, int n, string? last)
    {
        if (last is not null)
        {
            context.Response.Headers.Link = $"<{path}?n={Math.Min(n, DataPlaneSettings.MaxPageSize)}&last={Uri.EscapeDataString(last)}>; rel=\"next\"";
        }
    }
}
