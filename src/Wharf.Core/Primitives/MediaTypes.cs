namespace Wharf.Core.Primitives;

/// <summary>The manifest media types the data plane accepts, and helpers about them.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string OciImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerImageConfig = "application/vnd.docker.container.image.v1+json";

    public static bool IsManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>A container image's config (an artifact's is anything else).</summary>
    public static bool IsImageConfig(string? mediaType) => mediaType is OciImageConfig or DockerImageConfig;

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsSupportedManifest(string mediaType) => IsManifest(mediaType) || IsIndex(mediaType);
}
