using System.IO.Compression;
using System.Text.Json;
using Wharf.Server.ControlPlane;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// The embedded ECR Public model is botocore's, and docs/ecr-api.md's "ECR Public API" table lists every
/// one of its operations with the status the server has.
/// </summary>
public sealed class EcrPublicApiDocsTests
{
    private const string InstalledModel = "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/botocore/data/ecr-public/2020-10-30/service-2.json.gz";

    [Fact]
    public void Embedded_model_is_ecr_public_with_its_23_operations()
    {
        var model = ServiceModel.EcrPublic;
        Assert.Equal("SpencerFrontendService", model.TargetPrefix);
        Assert.Equal("ecr-public", model.SigningName);
        Assert.Equal(23, model.OperationNames.Count);
    }

    [Fact]
    public async Task Embedded_model_equals_the_installed_botocore_model()
    {
        if (!File.Exists(InstalledModel))
        {
            Wharf.Testing.Requires.Missing("botocore's ECR Public model is not installed here (the pyenv Python .ci/run puts on PATH has it)");
        }

        await using var file = File.OpenRead(InstalledModel);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var expected = await JsonDocument.ParseAsync(gzip, cancellationToken: TestContext.Current.CancellationToken);
        await using var embedded = typeof(ServiceModel).Assembly.GetManifestResourceStream("Wharf.Server.ControlPlane.Model.ecr-public-2020-10-30.json")!;
        using var actual = await JsonDocument.ParseAsync(embedded, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement), "the embedded model differs from botocore's: refresh it (ControlPlane/Model/README.md)");
    }

    [Fact]
    public void Every_model_pattern_compiles_in_dotnet()
    {
        Assert.All(ServiceModel.EcrPublic.Shapes.Where(s => s.Pattern is not null), s => Assert.NotNull(s.Regex));
    }

    [Fact]
    public void Docs_table_lists_every_model_operation_with_the_servers_status()
    {
        var rows = ReadTable();
        Assert.Equal(ServiceModel.EcrPublic.OperationNames.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            EcrPublicOperations.Implemented.Order(StringComparer.Ordinal),
            rows.Where(r => r.Value == "done").Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.All(rows.Values, status => Assert.True(status == "done" || status.StartsWith("later: ", StringComparison.Ordinal) || status == "not planned", status));
    }

    [Fact]
    public void Every_operation_is_throttled_as_its_kind()
    {
        var classes = ServiceModel.EcrPublic.OperationNames.ToDictionary(o => o, RequestLimits.ForEcrPublic);
        Assert.Equal(RequestClass.Pull, classes["BatchCheckLayerAvailability"]);
        Assert.All(new[] { "InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", "PutImage" }, o => Assert.Equal(RequestClass.Push, classes[o]));
        Assert.Equal(RequestClass.Token, classes["GetAuthorizationToken"]);
        Assert.All(new[] { "DescribeImageTags", "DescribeRegistries", "GetRegistryCatalogData", "GetRepositoryCatalogData", "DescribeImages", "ListTagsForResource" }, o => Assert.Equal(RequestClass.Read, classes[o]));
        Assert.All(new[] { "CreateRepository", "PutRepositoryCatalogData", "PutRegistryCatalogData", "BatchDeleteImage", "TagResource", "SetRepositoryPolicy" }, o => Assert.Equal(RequestClass.Write, classes[o]));
    }

    private static Dictionary<string, string> ReadTable()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Wharf.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        var inTable = false; // only the rows of "ECR Public API"; the private table is EcrApiDocsTests'
        foreach (var line in File.ReadLines(Path.Combine(dir.FullName, "docs", "ecr-api.md")))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                inTable = line == "## ECR Public API";
            }

            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (inTable && cells.Length >= 4 && cells[1].Length > 0 && char.IsUpper(cells[1][0]) && cells[1] != "Operation")
            {
                Assert.True(rows.TryAdd(cells[1], cells[2]), $"{cells[1]} is listed twice");
            }
        }

        return rows;
    }
}
