using System.Net;
using System.Text;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Errors;

/// <summary>
/// The OCI error body, byte for byte, with and without its <c>detail</c> member: the body is source-generated
/// (Native AOT), and the details services give are JSON objects where they were anonymous objects before.
/// </summary>
public sealed class OciErrorBodyTests : ServerTest
{
    [Fact]
    public async Task An_unknown_tag_names_the_reference_in_its_detail()
    {
        await Oci.PushImageAsync(Client, "errors/app", "v1", layers: 0);
        using var response = await Client.GetAsync("/v2/errors/app/manifests/v2", Oci.Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            """{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest v2 is unknown to this repository","detail":{"reference":"v2"}}]}""",
            await response.Content.ReadAsStringAsync(Oci.Ct));
    }

    [Fact]
    public async Task A_digest_mismatch_names_the_digest_and_an_error_without_detail_says_null()
    {
        await Oci.PushImageAsync(Client, "errors/blob", "v1", layers: 0);
        var missing = Oci.Sha256(Encoding.UTF8.GetBytes("never pushed"));
        using var blob = await Client.GetAsync($"/v2/errors/blob/blobs/{missing}", Oci.Ct);
        Assert.Equal(
            $$$"""{"errors":[{"code":"BLOB_UNKNOWN","message":"blob {{{missing}}} is unknown to this repository","detail":{"digest":"{{{missing}}}"}}]}""",
            await blob.Content.ReadAsStringAsync(Oci.Ct));

        using var bad = await Client.GetAsync("/v2/errors/blob/blobs/sha256:zz", Oci.Ct);
        var body = await bad.Content.ReadAsStringAsync(Oci.Ct);
        Assert.EndsWith("\"detail\":null}]}", body, StringComparison.Ordinal);
    }
}
