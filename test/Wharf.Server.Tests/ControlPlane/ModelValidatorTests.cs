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
            Wharf.Testing.Requires.Missing("botocore's ECR model is not installed here (the pyenv Python .ci/run puts on PATH has it)");
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
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"encryptionConfiguration\":{\"encryptionType\":\"ROT13\"}}", "encryptionConfiguration.encryptionType", "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]")]
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
    public void Missing_repository_name_must_not_be_null()
    {
        var failure = Validate("CreateRepository", "{}");
        Assert.Equal("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'", failure?.Message);
    }

    [Fact]
    public void Repository_name_of_one_character_is_shorter_than_the_model_minimum()
    {
        var failure = Validate("CreateRepository", "{\"repositoryName\":\"a\"}");
        Assert.Equal("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'", failure?.Message);
    }

    [Fact]
    public void Repository_name_with_capitals_fails_the_model_pattern()
    {
        var pattern = Model.Shape("RepositoryName").Pattern;
        Assert.NotNull(pattern);
        var failure = Validate("CreateRepository", "{\"repositoryName\":\"Upper\"}");
        Assert.Equal($"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '{pattern}''", failure?.Message);
    }

    [Fact]
    public void Unknown_tag_mutability_lists_the_four_model_values_in_order()
    {
        var failure = Validate("CreateRepository", "{\"repositoryName\":\"ab\",\"imageTagMutability\":\"SOMETIMES\"}");
        Assert.Equal(
            "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'",
            failure?.Message);
    }

    [Fact]
    public void Six_exclusion_filters_exceed_the_model_maximum_of_five()
    {
        var filters = string.Join(",", Enumerable.Repeat("{\"filterType\":\"WILDCARD\",\"filter\":\"v*\"}", 6));
        var failure = Validate("CreateRepository", $"{{\"repositoryName\":\"ab\",\"imageTagMutabilityExclusionFilters\":[{filters}]}}");
        Assert.Equal("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'must have length less than or equal to 5'", failure?.Message);
    }

    [Fact]
    public void Bad_exclusion_filter_is_reported_at_its_one_based_member_path()
    {
        var failure = Validate("CreateRepository", "{\"repositoryName\":\"ab\",\"imageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\",\"filter\":\"v 1\"}]}");
        Assert.NotNull(failure);
        Assert.Equal("imageTagMutabilityExclusionFilters.1.member.filter", failure.Path);
        Assert.Equal($"must satisfy regular expression '{Model.Shape("ImageTagMutabilityExclusionFilterValue").Pattern}'", failure.Constraint);
    }

    [Fact]
    public void Tag_count_is_not_limited_by_the_model_so_51_tags_pass()
    {
        // ECR documents 50 tags per resource, but botocore's TagList has no max: the limit is the
        // service's to enforce, not the model's.
        Assert.Null(Model.Shape("TagList").Max);
        var tags = string.Join(",", Enumerable.Range(0, 51).Select(i => $"{{\"Key\":\"k{i}\",\"Value\":\"v\"}}"));
        Assert.Null(Validate("CreateRepository", $"{{\"repositoryName\":\"ab\",\"tags\":[{tags}]}}"));
    }

    [Theory]
    [InlineData("0", "must be greater than or equal to 1")]
    [InlineData("1001", "must be less than or equal to 1000")]
    public void Max_results_outside_the_model_range_fails(string value, string constraint)
    {
        var failure = Validate("DescribeRepositories", $"{{\"maxResults\":{value}}}");
        Assert.Equal($"Invalid parameter at 'maxResults' failed to satisfy constraint: '{constraint}'", failure?.Message);
    }

    [Theory]
    [InlineData("\"x\"")]
    [InlineData("\"10\"")]
    [InlineData("1.5")]
    [InlineData("1.0")]
    [InlineData("2147483648")]
    [InlineData("true")]
    [InlineData("[]")]
    public void Max_results_that_is_not_an_int32_is_a_type_failure(string value)
    {
        var failure = Validate("DescribeRepositories", $"{{\"maxResults\":{value}}}");
        Assert.NotNull(failure);
        Assert.Equal(ValidationFailureKind.Type, failure.Kind);
        Assert.Equal("Unexpected value type at 'maxResults': expected an integer", failure.Message);
    }

    [Fact]
    public void Empty_image_id_list_is_shorter_than_the_model_minimum()
    {
        var failure = Validate("BatchGetImage", "{\"repositoryName\":\"ab\",\"imageIds\":[]}");
        Assert.Equal("Invalid parameter at 'imageIds' failed to satisfy constraint: 'must have length greater than or equal to 1'", failure?.Message);
    }

    [Theory]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"imageScanningConfiguration\":{\"scanOnPush\":\"true\"}}", "imageScanningConfiguration.scanOnPush", "a boolean")]
    [InlineData("CreateRepository", "{\"repositoryName\":\"ab\",\"imageScanningConfiguration\":[]}", "imageScanningConfiguration", "an object")]
    [InlineData("CreateRepository", "{\"repositoryName\":42}", "repositoryName", "a string")]
    [InlineData("CreateRepository", "[{\"repositoryName\":\"ab\"}]", "CreateRepositoryRequest", "an object")]
    [InlineData("BatchGetImage", "{\"repositoryName\":\"ab\",\"imageIds\":[\"latest\"]}", "imageIds.1.member", "an object")]
    public void Wrong_json_types_are_type_failures_at_their_path(string operation, string json, string path, string expected)
    {
        var failure = Validate(operation, json);
        Assert.NotNull(failure);
        Assert.Equal(ValidationFailureKind.Type, failure.Kind);
        Assert.Equal(path, failure.Path);
        Assert.Equal($"Unexpected value type at '{path}': expected {expected}", failure.Message);
    }

    [Theory]
    [InlineData("{\"repositoryName\":\"ab\",\"registryId\":\"123456789012\",\"filter\":{\"tagStatus\":\"ANY\",\"imageStatus\":\"ACTIVE\"},\"maxResults\":1000}")]
    [InlineData("{\"repositoryName\":\"ab\",\"imageIds\":null,\"nextToken\":null}")]
    public void Valid_describe_images_input_passes(string json) => Assert.Null(Validate("DescribeImages", json));

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
    [InlineData("{\"at\":1700000000.25}", null)]
    [InlineData("{\"at\":\"2024-01-01T00:00:00Z\"}", null)]
    [InlineData("{\"at\":true}", "at")]
    [InlineData("{\"at\":\"\\ud800\"}", "at")]
    [InlineData("{\"ratio\":\"0.5\"}", "ratio")]
    [InlineData("{\"ratio\":0.5,\"labels\":{\"env\":\"prod\"}}", null)]
    [InlineData("{\"labels\":{\"env\":7}}", "labels.env")]
    [InlineData("{\"labels\":{\"\\ud800\":\"x\"}}", "labels")]
    [InlineData("{\"labels\":[]}", "labels")]
    public void Timestamps_doubles_and_maps_type_check_their_values(string json, string? failurePath)
    {
        // ECR's inputs have no timestamp, double or map, so a small model of its own exercises them.
        const string Synthetic = """
            {"metadata":{"targetPrefix":"Test","signingName":"test"},
             "operations":{"Put":{"name":"Put","input":{"shape":"PutRequest"}}},
             "shapes":{
               "PutRequest":{"type":"structure","members":{"at":{"shape":"When"},"ratio":{"shape":"Ratio"},"labels":{"shape":"Labels"}}},
               "When":{"type":"timestamp"},
               "Ratio":{"type":"double"},
               "Labels":{"type":"map","key":{"shape":"Label"},"value":{"shape":"Label"},"max":2},
               "Label":{"type":"string","min":1}}}
            """;
        var model = ServiceModel.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Synthetic)));
        Assert.True(model.TryGetOperation("Put", out var operation));
        using var document = JsonDocument.Parse(json);
        var failure = ModelValidator.Validate(model, operation, document.RootElement);
        Assert.Equal(failurePath, failure?.Path);
        Assert.True(failure is null || failure.Kind == ValidationFailureKind.Type, failure?.Message);
    }

    internal static ValidationFailure? Validate(string operation, string json)
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
