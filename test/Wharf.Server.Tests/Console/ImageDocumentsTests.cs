using System.Text;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Server.WebConsole.Images;

namespace Wharf.Server.Tests.Console;

/// <summary>The image page's readers of untrusted documents: caps, depth, malformation, and what the page names things.</summary>
public sealed class ImageDocumentsTests
{
    [Fact]
    public void A_config_is_read_within_its_caps_and_each_layer_gets_its_history_line()
    {
        var env = new JsonArray();
        for (var i = 0; i < 1000; i++)
        {
            env.Add($"V{i}=x");
        }

        var config = new JsonObject
        {
            ["os"] = "linux",
            ["architecture"] = "arm",
            ["variant"] = "v7",
            ["config"] = new JsonObject { ["Env"] = env, ["Labels"] = new JsonObject { ["long"] = new string('x', 10_000), ["number"] = 5 } },
            ["history"] = new JsonArray(
                new JsonObject { ["created_by"] = "ADD rootfs /" },
                new JsonObject { ["created_by"] = "ENV A=1", ["empty_layer"] = true },
                new JsonObject { ["created_by"] = "RUN make" }),
        };
        var view = ImageDocuments.ReadConfig(Encoding.UTF8.GetBytes(config.ToJsonString()));
        Assert.Equal("linux/arm/v7", view.Platform.ToString());
        Assert.Equal(ImageDocuments.MaxEnv, view.Env.Count);
        Assert.Equal(1000, view.EnvTotal);
        Assert.Equal(["ADD rootfs /", "RUN make"], view.LayerCreatedBy);
        Assert.Equal(3, view.History.Count);
        var (_, cut) = Assert.Single(view.Labels, l => l.Key == "long");
        Assert.Equal(ImageDocuments.MaxString + 1, cut.Length);
        Assert.Equal("5", Assert.Single(view.Labels, l => l.Key == "number").Value);
        Assert.Null(view.Entrypoint);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("{\"os\":\"\\ud800\"}")]
    [InlineData("{\"config\":{\"Env\":[")]
    [InlineData("")]
    public void A_malformed_config_is_unreadable_rather_than_an_error(string json) =>
        Assert.Throws<UnreadableDocumentException>(() => ImageDocuments.ReadConfig(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void A_config_nested_past_the_depth_limit_is_unreadable()
    {
        var deep = "{\"config\":" + new string('[', 40) + new string(']', 40) + "}";
        Assert.Throws<UnreadableDocumentException>(() => ImageDocuments.ReadConfig(Encoding.UTF8.GetBytes(deep)));
    }

    [Fact]
    public void An_index_is_read_with_its_platforms()
    {
        var index = """{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":7,"platform":{"os":"linux","architecture":"s390x"}},{"digest":"bad"}]}""";
        var view = ImageDocuments.ReadManifest(Encoding.UTF8.GetBytes(index), "application/vnd.oci.image.index.v1+json");
        Assert.True(view.IsIndex);
        Assert.Equal(2, view.Entries.Count);
        Assert.Equal("linux/s390x", view.Entries[0].Platform!.ToString());
        Assert.Equal(7, view.Entries[0].Size);
        Assert.Null(view.Entries[1].Digest);
    }

    [Theory]
    [InlineData("application/vnd.dev.cosign.artifact.sig.v1+json", "Cosign signature")]
    [InlineData("application/vnd.cncf.notary.signature", "Notation signature")]
    [InlineData("application/spdx+json", "SPDX SBOM")]
    [InlineData("application/vnd.cyclonedx+json", "CycloneDX SBOM")]
    [InlineData("application/vnd.in-toto+json", "In-toto attestation")]
    [InlineData("application/vnd.example.thing", "application/vnd.example.thing")]
    [InlineData(null, "Unknown artifact")]
    public void Referrers_are_named_in_plain_words(string? type, string expected) => Assert.Equal(expected, ArtifactKinds.Describe(type));

    [Fact]
    public void Findings_sort_most_severe_first_then_by_score()
    {
        static ScanFinding Finding(string name, string severity, double? score) =>
            new(name, null, null, null, severity, "p", "1", null, "OS", null, "sha256:00", null, null, null, null, score, "OSV", []);
        var sorted = Severities.Sort([Finding("a", "LOW", 9), Finding("b", "CRITICAL", 9.1), Finding("c", "HIGH", 7), Finding("d", "CRITICAL", 9.8), Finding("e", "bogus", 10)]);
        Assert.Equal(["d", "b", "c", "a", "e"], sorted.Select(f => f.Name));
        Assert.Equal("undefined", Severities.CssClass("bogus"));
        Assert.Equal("critical", Severities.CssClass("CRITICAL"));
    }
}
