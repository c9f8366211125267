using Wharf.Core.Errors;
using Wharf.Server.Errors;

namespace Wharf.Server.Public;

/// <summary>
/// Every request to the public address: <c>/v2</c> and <c>/v2/…</c> to the public registry API,
/// <c>/token</c> and <c>/token/</c> to the token realm, the rest to the gallery.
/// </summary>
internal sealed class PublicAddressHandler(Gallery.GalleryHandler gallery, ILogger<PublicAddressHandler> logger)
{
    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/v2", StringComparison.Ordinal))
        {
            return OciErrorWriter.HandleAsync(context, new WharfException(WharfErrorCode.RouteUnknown, "not yet"), logger);
        }

        if (path.StartsWithSegments("/token", StringComparison.Ordinal))
        {
            return OciErrorWriter.HandleAsync(context, new WharfException(WharfErrorCode.RouteUnknown, "not yet"), logger);
        }

        return gallery.HandleAsync(context);
    }
}
