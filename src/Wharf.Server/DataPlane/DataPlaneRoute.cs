using Wharf.Core.Errors;
using Wharf.Core.Primitives;

namespace Wharf.Server.DataPlane;

internal enum RouteKind
{
    Base,
    Catalog,
    Tags,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Referrers,
}

/// <summary>
/// A parsed /v2 path. Repository names contain <c>/</c>, so the tail is read from the right
/// (<c>…/blobs/uploads/[id]</c>, <c>…/blobs/&lt;digest&gt;</c>, <c>…/manifests/&lt;ref&gt;</c>,
/// <c>…/tags/list</c>, <c>…/referrers/&lt;digest&gt;</c>); what is left is the name.
/// </summary>
internal sealed record DataPlaneRoute(RouteKind Kind, RepositoryName? Name, string? Argument)
{
    /// <summary>Parses the path after <c>/v2/</c>; throws <c>NOT_FOUND</c> or <c>NAME_INVALID</c>.</summary>
    public static DataPlaneRoute Parse(string tail)
    {
        if (tail.Length == 0)
        {
            return new DataPlaneRoute(RouteKind.Base, null, null);
        }

        if (tail == "_catalog")
        {
            return new DataPlaneRoute(RouteKind.Catalog, null, null);
        }

        var segments = tail.Split('/');
        var n = segments.Length;
        if (n >= 3 && segments[n - 2] == "tags" && segments[n - 1] == "list")
        {
            return Route(RouteKind.Tags, segments, n - 2, null);
        }

        if (n >= 3 && segments[n - 2] == "blobs" && segments[n - 1] == "uploads")
        {
            return Route(RouteKind.UploadStart, segments, n - 2, null);
        }

        if (n >= 4 && segments[n - 3] == "blobs" && segments[n - 2] == "uploads")
        {
            return segments[n - 1].Length == 0
                ? Route(RouteKind.UploadStart, segments, n - 3, null)
                : Route(RouteKind.Upload, segments, n - 3, segments[n - 1]);
        }

        if (n >= 3 && segments[n - 1].Length > 0)
        {
            switch (segments[n - 2])
            {
                case "blobs":
                    return Route(RouteKind.Blob, segments, n - 2, segments[n - 1]);
                case "manifests":
                    return Route(RouteKind.Manifest, segments, n - 2, segments[n - 1]);
                case "referrers":
                    return Route(RouteKind.Referrers, segments, n - 2, segments[n - 1]);
            }
        }

        throw new WharfException(WharfErrorCode.RouteUnknown, $"no registry API route matches /v2/{tail}");
    }

    public Digest DigestArgument()
    {
        if (Digest.TryParse(Argument, out var digest))
        {
            return digest;
        }

        var message = Digest.IsUnsupportedAlgorithm(Argument)
            ? $"digest algorithm of '{Argument}' is not supported (sha256, sha512)"
            : $"'{Argument}' is not a valid digest";
        throw new WharfException(WharfErrorCode.DigestInvalid, message);
    }

    public Reference ReferenceArgument()
    {
        if (Reference.TryParse(Argument, out var reference))
        {
            return reference;
        }

        if (Argument!.Contains(':', StringComparison.Ordinal))
        {
            throw new WharfException(WharfErrorCode.ManifestInvalid, $"reference '{Argument}' is not a valid digest");
        }

        throw new WharfException(WharfErrorCode.TagInvalid, $"'{Argument}' is not a valid tag");
    }

    private static DataPlaneRoute Route(RouteKind kind, string[] segments, int nameSegments, string? argument)
    {
        var name = string.Join('/', segments, 0, nameSegments);
        if (!RepositoryName.TryParse(name, out var parsed))
        {
            throw new WharfException(WharfErrorCode.NameInvalid, $"invalid repository name '{name}'");
        }

        return new DataPlaneRoute(kind, parsed, argument);
    }
}
