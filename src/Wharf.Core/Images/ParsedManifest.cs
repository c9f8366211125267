using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;

namespace Wharf.Core.Images;

/// <summary>What a manifest PUT derives from the pushed bytes (validated here, once).</summary>
internal sealed record ParsedManifest(
    string MediaType,
    string? ArtifactType,
    Digest? Subject,
    string? AnnotationsJson,
    IReadOnlyList<Digest> Blobs,
    IReadOnlyList<Digest> Children,
    IReadOnlyDictionary<Digest, long> Sizes)
{
    /// <summary>
    /// ECR refuses an image with more layers ("Limit on number of layers per image exceeded"; 500 as
    /// measured by its users, not in its quota table). The cap also bounds the work of one PUT.
    /// </summary>
    public const int MaxLayers = 500;

    /// <summary>An index's entries: ECR documents no limit; this bounds the work of one PUT.</summary>
    public const int MaxIndexManifests = 1000;

    private const string ForeignLayerPrefix = "application/vnd.docker.image.rootfs.foreign.";

    /// <summary>Parses and validates a manifest or index; throws <c>MANIFEST_INVALID</c> on anything malformed.</summary>
    public static ParsedManifest Parse(ReadOnlyMemory<byte> content, string? contentType)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw Invalid($"manifest is not well-formed JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (!JsonStrings.AreReadable(root))
            {
                throw Invalid("manifest contains a string that is not valid Unicode (invalid UTF-8 or a lone surrogate escape)");
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("manifest must be a JSON object");
            }

            if (!root.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number
                || !version.TryGetInt32(out var v) || v != 2)
            {
                throw Invalid("schemaVersion must be 2");
            }

            var declared = OptionalString(root, "mediaType");
            var type = NormaliseContentType(contentType);
            if (declared is not null && type is not null && declared != type)
            {
                throw Invalid($"mediaType '{declared}' does not match Content-Type '{type}'");
            }

            var mediaType = declared ?? type ?? throw Invalid("manifest has no mediaType and the request no Content-Type");
            if (!MediaTypes.IsSupportedManifest(mediaType))
            {
                throw Invalid($"unsupported manifest media type '{mediaType}'");
            }

            var artifactType = OptionalString(root, "artifactType");
            Digest? subject = null;
            if (root.TryGetProperty("subject", out var subjectElement) && subjectElement.ValueKind != JsonValueKind.Null)
            {
                subject = Descriptor(subjectElement, "subject").Digest;
            }

            string? annotations = null;
            if (root.TryGetProperty("annotations", out var annotationsElement) && annotationsElement.ValueKind != JsonValueKind.Null)
            {
                if (annotationsElement.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid("annotations must be an object");
                }

                annotations = annotationsElement.GetRawText();
            }

            var blobs = new List<Digest>();
            var children = new List<Digest>();
            var sizes = new Dictionary<Digest, long>();
            if (MediaTypes.IsManifest(mediaType))
            {
                if (!root.TryGetProperty("config", out var config))
                {
                    throw Invalid("manifest has no config");
                }

                var configDescriptor = Descriptor(config, "config");
                Reference(configDescriptor, blobs, sizes);
                artifactType ??= configDescriptor.MediaType;
                var layers = Array(root, "layers");
                if (layers.GetArrayLength() > MaxLayers)
                {
                    throw Invalid($"Limit on number of layers per image exceeded: the manifest has {layers.GetArrayLength()} layers; the limit is {MaxLayers}");
                }

                foreach (var layer in layers.EnumerateArray())
                {
                    var descriptor = Descriptor(layer, "layer");
                    var foreign = descriptor.MediaType.StartsWith(ForeignLayerPrefix, StringComparison.Ordinal)
                        && layer.TryGetProperty("urls", out _);
                    if (!foreign)
                    {
                        Reference(descriptor, blobs, sizes);
                    }
                }
            }
            else
            {
                var manifests = Array(root, "manifests");
                if (manifests.GetArrayLength() > MaxIndexManifests)
                {
                    throw Invalid($"Limit on number of manifests per index exceeded: the index has {manifests.GetArrayLength()} manifests; the limit is {MaxIndexManifests}");
                }

                foreach (var child in manifests.EnumerateArray())
                {
                    Reference(Descriptor(child, "manifests entry"), children, sizes);
                }
            }

            return new ParsedManifest(mediaType, artifactType, subject, annotations, blobs, children, sizes);
        }
    }

    private static string? NormaliseContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var bare = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return bare.Length == 0 ? null : bare;
    }

    private static string? OptionalString(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Invalid($"{name} must be a string");
    }

    private static JsonElement Array(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"manifest has no {name} array");
        }

        return array;
    }

    /// <summary>
    /// Adds a descriptor's digest once (a set beside the list: a manifest at the cap stays linear) and
    /// its declared size, which the store checks against the real one. One digest declared with two
    /// sizes cannot match both.
    /// </summary>
    private static void Reference((string MediaType, Digest Digest, long Size) descriptor, List<Digest> digests, Dictionary<Digest, long> sizes)
    {
        if (sizes.TryAdd(descriptor.Digest, descriptor.Size))
        {
            digests.Add(descriptor.Digest);
        }
        else if (sizes[descriptor.Digest] != descriptor.Size)
        {
            throw Invalid($"{descriptor.Digest} is declared with two sizes, {sizes[descriptor.Digest]} and {descriptor.Size} bytes");
        }
    }

    private static (string MediaType, Digest Digest, long Size) Descriptor(JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{what} must be a descriptor object");
        }

        var mediaType = OptionalString(element, "mediaType") ?? throw Invalid($"{what} has no mediaType");
        var digestText = OptionalString(element, "digest");
        if (!Digest.TryParse(digestText, out var digest))
        {
            throw Invalid($"{what} has an invalid digest '{digestText}'");
        }

        if (!element.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out var s) || s < 0)
        {
            throw Invalid($"{what} has an invalid size");
        }

        return (mediaType, digest, s);
    }

    private static WharfException Invalid(string message) => new(WharfErrorCode.ManifestInvalid, message);
}
