using System.IO.Compression;
using System.Text.Json;
using Wharf.Server.Audit;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Kms;
using Wharf.Testing;

namespace Wharf.Server.Tests.Kms;

/// <summary>The embedded KMS model is botocore's, docs/ecr-api.md lists what is implemented, and the audit trail keeps no plaintext.</summary>
public sealed class KmsModelTests
{
    [Fact]
    public async Task Embedded_kms_model_equals_the_installed_botocore_model()
    {
        Assert.Equal("kms", ServiceModel.Kms.SigningName);
        Assert.Equal("TrentService", ServiceModel.Kms.TargetPrefix);
        Assert.Equal("kms.amazonaws.com", ServiceModel.Kms.EventSource);
        var found = await ProcessRunner.RunAsync("python3", ["-c", "import botocore,os;print(os.path.dirname(botocore.__file__))"]);
        var path = Path.Combine(found.StandardOutput.Trim(), "data", "kms", "2014-11-01", "service-2.json.gz");
        if (found.ExitCode != 0 || !File.Exists(path))
        {
            Requires.Missing("botocore's KMS model is not installed here");
        }

        await using var file = File.OpenRead(path);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var expected = await JsonDocument.ParseAsync(gzip, cancellationToken: TestContext.Current.CancellationToken);
        await using var embedded = typeof(ServiceModel).Assembly.GetManifestResourceStream("Wharf.Server.ControlPlane.Model.kms-2014-11-01.json")!;
        using var actual = await JsonDocument.ParseAsync(embedded, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement), "the embedded model differs from botocore's: refresh it (ControlPlane/Model/README.md)");
    }

    [Fact]
    public async Task Docs_list_every_implemented_kms_operation_and_only_those()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Wharf.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var docs = await File.ReadAllTextAsync(Path.Combine(dir.FullName, "docs", "ecr-api.md"), TestContext.Current.CancellationToken);
        var section = docs[docs.IndexOf("\n## KMS", StringComparison.Ordinal)..];
        var next = section.IndexOf("\n## ", 5, StringComparison.Ordinal);
        section = next < 0 ? section : section[..next];
        var listed = System.Text.RegularExpressions.Regex.Matches(section, @"^\| `(\w+)` \|", System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
        Assert.Equal(KmsOperations.Implemented.Order(StringComparer.Ordinal), listed);
        Assert.All(KmsOperations.Implemented, o => Assert.True(ServiceModel.Kms.TryGetOperation(o, out _), o));
    }

    [Fact]
    public void Audit_records_leave_out_kms_plaintexts_and_ciphertext_blobs()
    {
        using var body = JsonDocument.Parse("""{"KeyId":"alias/app","Plaintext":"c2VjcmV0LXZhbHVl","CiphertextBlob":"AQIDBA==","GrantTokens":["tok-123"]}""");
        var json = AuditParameters.FromJson(body.RootElement);
        Assert.Contains("alias/app", json, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LXZhbHVl", json, StringComparison.Ordinal);
        Assert.DoesNotContain("AQIDBA==", json, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-123", json, StringComparison.Ordinal);
    }
}
