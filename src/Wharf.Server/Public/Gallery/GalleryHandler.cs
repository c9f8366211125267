using Wharf.Core.Errors;
using Wharf.Server.Errors;

namespace Wharf.Server.Public.Gallery;

/// <summary>The gallery: every request to the public address that is not /v2 or the token realm.</summary>
internal sealed class GalleryHandler(ILogger<GalleryHandler> logger)
{
    public Task HandleAsync(HttpContext context) =>
        OciErrorWriter.HandleAsync(context, new WharfException(WharfErrorCode.RouteUnknown, "no page here"), logger);
}
