using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Replication;
using Wharf.Core.Repositories;
using Wharf.Core.Scanning;

namespace Wharf.Core.Primitives;

/// <summary>
/// The types Core stores or writes as JSON, source-generated: Wharf is published as Native AOT, where
/// reflection-based serialization is off (and unsafe under trimming). Each call site keeps its own
/// <see cref="JsonSerializerOptions"/> (naming, null handling, converters) with this context as their
/// resolver, so the JSON is what the reflection-based serializer wrote; sites with the default options
/// use the context's properties.
/// </summary>
[JsonSerializable(typeof(ReplicationService.BackfillCursor))]
[JsonSerializable(typeof(ReplicationConfiguration))]
[JsonSerializable(typeof(ScanningConfiguration))]
[JsonSerializable(typeof(List<LifecyclePreviewEntry>))]
[JsonSerializable(typeof(List<PullTimeExclusion>))]
[JsonSerializable(typeof(CreationTemplates))]
[JsonSerializable(typeof(PullThroughCacheRules))]
[JsonSerializable(typeof(IReadOnlyList<ScanFinding>))]
[JsonSerializable(typeof(List<ScanFinding>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class CoreJsonContext : JsonSerializerContext;

/// <summary>Typed access to a source-generated resolver through options that keep their own behaviour.</summary>
public static class JsonTypes
{
    /// <summary>
    /// The metadata of <typeparamref name="T"/> under <paramref name="options"/>, whose
    /// <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a source-generated context; throws
    /// <see cref="NotSupportedException"/> when the context does not list the type.
    /// </summary>
    public static JsonTypeInfo<T> TypeInfo<T>(this JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
}
