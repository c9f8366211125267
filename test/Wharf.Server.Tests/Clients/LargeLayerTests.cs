using Wharf.Testing;

namespace Wharf.Server.Tests.Clients;

/// <summary>A layer larger than 1 GiB goes in and out byte-identical while the server's heap stays flat.</summary>
[Collection(nameof(IsolatedClientCollection))]
public sealed class LargeLayerTests(ClientFixture fixture)
{
    private const long HeapGrowthBudget = 64L << 20;

    [Fact]
    public async Task A_1_GiB_layer_pushes_and_pulls_byte_identical_with_flat_memory()
    {
        var image = await TestImages.LargeAsync();
        var tools = ContainerTools.Instance;
        var target = $"docker://{fixture.Host}/clients/large:v1";

        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Delay(50, CancellationToken.None);
            }
        }, CancellationToken.None);

        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, target)).EnsureSuccess();
        var outDir = Path.Combine(fixture.WorkDirectory, "large-out");
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", target, $"oci:{outDir}:v1")).EnsureSuccess();

        await stop.CancelAsync();
        await sampler;

        Assert.Equal(image.Manifest.Digest, ClientTests.ReadLayoutManifestDigest(outDir));
        var layer = image.Layers.Single();
        Assert.True(layer.Size > 1L << 30);
        var pulled = Path.Combine(outDir, "blobs", "sha256", layer.Digest["sha256:".Length..]);
        Assert.Equal(layer.Size, new FileInfo(pulled).Length);
        Assert.Equal(layer.Digest, await OciLayout.Sha256FileAsync(pulled, TestContext.Current.CancellationToken));
        Directory.Delete(outDir, recursive: true);

        if (Environment.GetEnvironmentVariable("WHARF_TEST_REGISTRY") is null)
        {
            // The server runs in this process: its managed heap must not have grown with the layer.
            Assert.True(peak - baseline < HeapGrowthBudget, $"managed heap grew by {(peak - baseline) >> 20} MiB during a {layer.Size >> 20} MiB transfer");
        }
    }
}

/// <summary>
/// Runs alone, after the parallel tests: the server shares this process's heap with every other
/// test, so a memory bound is only meaningful with nothing else running.
/// </summary>
[CollectionDefinition(nameof(IsolatedClientCollection), DisableParallelization = true)]
public sealed class IsolatedClientCollection : ICollectionFixture<ClientFixture>;
