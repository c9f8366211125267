using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Wharf.Server.ControlPlane.Model;

/// <summary>
/// A botocore service model (the embedded ECR model by default): operations with their input shape and
/// errors, and every shape's constraints. Parsed once; immutable.
/// </summary>
internal sealed class ServiceModel
{
    private static readonly Lazy<ServiceModel> EcrModel = new(() => Embedded("ecr-2015-09-21.json"));
    private static readonly Lazy<ServiceModel> SecretsManagerModel = new(() => Embedded("secretsmanager-2017-10-17.json"));
    private static readonly Lazy<ServiceModel> EcrPublicModel = new(() => Embedded("ecr-public-2020-10-30.json"));
    private static readonly Lazy<ServiceModel> CloudTrailModel = new(() => Embedded("cloudtrail-2013-11-01.json"));
    private static readonly Lazy<ServiceModel> KmsModel = new(() => Embedded("kms-2014-11-01.json"));

    private readonly FrozenDictionary<string, OperationModel> operations;
    private readonly FrozenDictionary<string, ShapeModel> shapes;

    private ServiceModel(string targetPrefix, string signingName, FrozenDictionary<string, OperationModel> operations, FrozenDictionary<string, ShapeModel> shapes)
    {
        TargetPrefix = targetPrefix;
        SigningName = signingName;
        EventSource = $"{signingName}.amazonaws.com";
        this.operations = operations;
        this.shapes = shapes;
    }

    /// <summary>Amazon ECR (2015-09-21), from the embedded copy of botocore's model.</summary>
    public static ServiceModel Ecr => EcrModel.Value;

    /// <summary>AWS Secrets Manager (2017-10-17), from the embedded copy of botocore's model.</summary>
    public static ServiceModel SecretsManager => SecretsManagerModel.Value;

    /// <summary>Amazon ECR Public (2020-10-30), from the embedded copy of botocore's model.</summary>
    public static ServiceModel EcrPublic => EcrPublicModel.Value;

    /// <summary>AWS CloudTrail (2013-11-01), from the embedded copy of botocore's model: <c>LookupEvents</c> over the audit trail.</summary>
    public static ServiceModel CloudTrail => CloudTrailModel.Value;

    /// <summary>AWS KMS (2014-11-01), from the embedded copy of botocore's model: the key service (<c>TrentService</c>).</summary>
    public static ServiceModel Kms => KmsModel.Value;

    /// <summary>The embedded botocore model file <paramref name="file"/> (see this folder's README).</summary>
    public static ServiceModel Embedded(string file)
    {
        using var stream = typeof(ServiceModel).Assembly.GetManifestResourceStream("Wharf.Server.ControlPlane.Model." + file)
            ?? throw new InvalidOperationException($"The embedded service model {file} is missing.");
        return Load(stream);
    }

    /// <summary>The <c>X-Amz-Target</c> prefix, e.g. <c>AmazonEC2ContainerRegistry_V20150921</c>.</summary>
    public string TargetPrefix { get; }

    public string SigningName { get; }

    /// <summary>CloudTrail's <c>eventSource</c> of the service's calls (<c>ecr.amazonaws.com</c>), made once rather than per request.</summary>
    public string EventSource { get; }

    public IReadOnlyCollection<string> OperationNames => operations.Keys;

    public IReadOnlyCollection<ShapeModel> Shapes => shapes.Values;

    public bool TryGetOperation(string name, [NotNullWhen(true)] out OperationModel? operation) => operations.TryGetValue(name, out operation);

    public ShapeModel Shape(string name) =>
        shapes.TryGetValue(name, out var shape) ? shape : throw new KeyNotFoundException($"The model has no shape '{name}'.");

    public static ServiceModel Load(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var metadata = root.GetProperty("metadata");
        var operations = new Dictionary<string, OperationModel>(StringComparer.Ordinal);
        foreach (var op in root.GetProperty("operations").EnumerateObject())
        {
            var input = op.Value.TryGetProperty("input", out var i) ? i.GetProperty("shape").GetString() : null;
            var output = op.Value.TryGetProperty("output", out var o) ? o.GetProperty("shape").GetString() : null;
            var errors = op.Value.TryGetProperty("errors", out var e) ? e.EnumerateArray().Select(x => x.GetProperty("shape").GetString()!).ToArray() : [];
            operations[op.Name] = new OperationModel(op.Name, input, output, errors);
        }

        var shapes = new Dictionary<string, ShapeModel>(StringComparer.Ordinal);
        foreach (var shape in root.GetProperty("shapes").EnumerateObject())
        {
            shapes[shape.Name] = ShapeModel.Parse(shape.Name, shape.Value);
        }

        return new ServiceModel(
            metadata.GetProperty("targetPrefix").GetString()!,
            // botocore omits signingName where it equals the endpoint prefix (CloudTrail's model).
            (metadata.TryGetProperty("signingName", out var signing) ? signing : metadata.GetProperty("endpointPrefix")).GetString()!,
            operations.ToFrozenDictionary(StringComparer.Ordinal),
            shapes.ToFrozenDictionary(StringComparer.Ordinal));
    }
}

/// <summary>One operation: its input and output shapes and the errors the model lists for it.</summary>
internal sealed record OperationModel(string Name, string? InputShape, string? OutputShape, IReadOnlyList<string> Errors)
{
    public bool HasError(string name) => Errors.Contains(name, StringComparer.Ordinal);
}
