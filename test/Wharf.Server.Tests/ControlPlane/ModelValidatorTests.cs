using System.IO.Compression;
using System.Text.Json;
using Wharf.Server.ControlPlane.Model;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>The embedded botocore model and the validator that checks every request against it.</summary>
public sealed class ModelValidatorTests
{
    private const string InstalledModel = "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/botocore/data/ecr/2015-09-21/service-2.json.gz";

    private static readonly ServiceModel Model = ServiceModel.Ecr;

    [Fact]
    public void Embedded_model_is_ecr_with_its_58_operations()
    {
        Assert.Equal("AmazonEC2ContainerRegistry_V20150921", Model.TargetPrefix);
        Assert.Equal("ecr", Model.SigningName);
        Assert.Equal(58, Model.OperationNames.Count);
    }

    [Fact]
    public async Task Embedded_model_equals_the_installed_botocore_model()
    {
        var installed = FindInstalledModel();
        if (installed is null)
        {
            Assert.Skip("botocore's ECR model is not installed here");
        }

        await using var file = File.OpenRead(installed);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var expected = await JsonDocument.ParseAsync(gzip, cancellationToken: TestContext.Current.CancellationToken);
        await using var embedded = typeof(ServiceModel).Assembly.GetManifestResourceStream("Wharf.Server.ControlPlane.Model.ecr-2015-09-21.json")!;
        using var actual = await JsonDocument.ParseAsync(embedded, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement), "the embedded model differs from botocore's: refresh it (ControlPlane/Model/README.md)");
    }

    [Fact]
    public void Every_model_pattern_compiles_in_dotnet()
    {
        foreach (var shape in Model.Shapes.Where(s => s.Pattern is not null))
        {
            var exception = Record.Exception(() => shape.Regex);
            Assert.True(exception is null, $"{shape.Name}: {shape.Pattern} does not compile: {exception?.Message}");
        }
    }

    [Theory]
    [InlineData("{\"repositoryName\":\"team/app\",\"imageTagMutability\":\"IMMUTABLE_WITH_EXCLUSION\",\"imageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\",\"filter\":\"v*\"}],\"tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"imageScanningConfiguration\":{\"scanOnPush\":true},\"encryptionConfiguration\":{\"encryptionType\":\"KMS\",\"kmsKey\":\"alias/x\"},\"unknownMember\":42}")]
    [InlineData("{\"repositoryName\":\"a1\",\"registryId\":null}")]
    public void Valid_create_repository_input_passes(string json) => Assert.Null(Validate("CreateRepository", json));

    [Theory]
    [InlineData("CreateRepository", "{\"repositoryName\":\"Upper\"}", "repositoryName", "must satisfy regular expression '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*'")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"registryId\":\"12\"}", "registryId", "must satisfy regular expression '[0-9]{12}'")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"tags\":[{\"Key\":\"k\"}]}", "tags.1.member.Value", "must not be null")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"encryptionConfiguration\":{\"encryptionType\":\"ROT13\"}}", "encryptionConfiguration.encryptionType", "must satisfy enum value set: [AES256, KMS, KMS_DSSE]")]
    [InlineData("BatchDeleteImage", "{\"repositoryName\":\"ab\",\"imageIds\":[{\"imageTag\":\"\"}]}", "imageIds.1.member.imageTag", "must have length greater than or equal to 1")]
    [InlineData("GetLifecyclePolicyPreview", "{\"repositoryName\":\"ab\",\"maxResults\":101}", "maxResults", "must be less than or equal to 100")]
    public void Constraint_failures_name_the_member_and_the_constraint(string operation, string json, string path, string constraint)
    {
        var failure = Validate(operation, json);
        Assert.NotNull(failure);
        Assert.Equal(ValidationFailureKind.Constraint, failure.Kind);
        Assert.Equal(path, failure.Path);
        Assert.Equal(constraint, failure.Constraint);
        Assert.Equal($"Invalid parameter at '{path}' failed to satisfy constraint: '{constraint}'", failure.Message);
    }

    [Fact]
    public void Blob_length_is_the_decoded_length_and_bad_base64_is_a_type_failure()
    {
        const string Prefix = "{\"repositoryName\":\"ab\",\"uploadId\":\"0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f\",\"partFirstByte\":0,\"partLastByte\":0,";
        Assert.Null(Validate("UploadLayerPart", Prefix + "\"layerPartBlob\":\"" + Convert.ToBase64String(new byte[20 * 1024 * 1024]) + "\"}"));
        var tooBig = Validate("UploadLayerPart", Prefix + "\"layerPartBlob\":\"" + Convert.ToBase64String(new byte[(20 * 1024 * 1024) + 1]) + "\"}");
        Assert.Equal("must have length less than or equal to 20971520", tooBig?.Constraint);
        Assert.Equal(ValidationFailureKind.Type, Validate("UploadLayerPart", Prefix + "\"layerPartBlob\":\"not base64!\"}")?.Kind);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"repositoryNames\":{\"a\":1}}")]
    [InlineData("{\"maxResults\":99999999999999999999}")]
    [InlineData("{\"maxResults\":true}")]
    [InlineData("{\"repositoryNames\":[null]}")]
    public void Garbage_is_a_failure_never_an_exception(string json) => Assert.NotNull(Validate("DescribeRepositories", json));

    [Fact]
    public void Deep_nesting_is_refused_without_overflowing()
    {
        var json = "{\"repositoryName\":\"ab\",\"imageIds\":[" + new string('[', 5000) + new string(']', 5000) + "]}";
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 10_000 });
        Assert.True(Model.TryGetOperation("BatchGetImage", out var operation));
        Assert.NotNull(ModelValidator.Validate(Model, operation, document.RootElement));
    }

    private static ValidationFailure? Validate(string operation, string json)
    {
        Assert.True(Model.TryGetOperation(operation, out var op));
        using var document = JsonDocument.Parse(json);
        return ModelValidator.Validate(Model, op, document.RootElement);
    }

    private static string? FindInstalledModel()
    {
        if (File.Exists(InstalledModel))
        {
            return InstalledModel;
        }

        var found = Wharf.Testing.ProcessRunner.RunAsync("python3", ["-c", "import botocore,os;print(os.path.dirname(botocore.__file__))"]).GetAwaiter().GetResult();
        var path = Path.Combine(found.StandardOutput.Trim(), "data", "ecr", "2015-09-21", "service-2.json.gz");
        return found.ExitCode == 0 && File.Exists(path) ? path : null;
    }
}
