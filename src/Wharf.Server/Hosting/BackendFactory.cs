using Wharf.Core.Metadata;
using Wharf.Core.Storage;

namespace Wharf.Server.Hosting;

/// <summary>Picks and constructs the configured backends.</summary>
internal static class BackendFactory
{
    public static IBlobStore CreateBlobStore(WharfOptions options) =>
        throw new NotImplementedException("filesystem blob store lands with the storage slice");

    public static IMetadataStore CreateMetadataStore(WharfOptions options) =>
        throw new NotImplementedException("metadata stores land with the metadata slice");
}
