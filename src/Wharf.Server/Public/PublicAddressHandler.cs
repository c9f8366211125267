namespace Wharf.Server.Public;

/// <summary>
/// Every request to the public address: <c>/v2</c> and <c>/v2/…</c> to the public registry API,
/// <c>/token</c> and <c>/token/</c> to the token realm, the rest to the gallery. Nothing else: the
/// private /v2, the ECR and IAM APIs and <c>/health</c> are the main port's only.
/// </summary>
internal sealed class PublicAddressHandler(DataPlane.DataPlaneHandler dataPlane, PublicDataPlane scope, PublicTokenRealm realm, Gallery.GalleryHandler gallery)
{
    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path;
        Hosting.RequestRecord.Of(context)?.Surface = path.StartsWithSegments("/v2", StringComparison.Ordinal) ? "public" : path.Value is "/token" or "/token/" ? "public-token" : "gallery";
        if (path.StartsWithSegments("/v2", StringComparison.Ordinal))
        {
            return dataPlane.HandleAsync(context, scope);
        }

        if (path.Value is "/token" or "/token/")
        {
            return realm.HandleAsync(context);
        }

        return gallery.HandleAsync(context);
    }
}
