using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The one contract every <see cref="IMetadataStore"/> backend passes (distribution
/// <c>driver/testsuites</c>). A backend departs from it only by overriding one test with a written reason.
/// </summary>
public abstract class MetadataStoreContract
{
    /// <summary>A fresh, migrated, empty store. Called once per test.</summary>
    protected abstract Task<IMetadataStore> CreateStoreAsync();
}
