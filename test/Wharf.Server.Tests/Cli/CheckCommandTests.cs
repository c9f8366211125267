using System.Text;
using Wharf.Core.Encryption;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Cli;

/// <summary><c>wharf check</c> passes a healthy store and names every damaged or missing blob.</summary>
public sealed class CheckCommandTests
{
    [Fact]
    public async Task Check_reports_corrupt_and_missing_blobs_and_exits_non_zero()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-check-" + Guid.NewGuid().ToString("N"));
        try
        {
            var config = Encoding.UTF8.GetBytes("""{"os":"linux"}""");
            var corrupt = new byte[3000];
            var missing = new byte[2000];
            Random.Shared.NextBytes(corrupt);
            Random.Shared.NextBytes(missing);
            var server = await WharfTestServer.StartAsync(dataDirectory: dataDirectory);
            using (var client = server.CreateClient())
            {
                var pusher = new OciPusher(client);
                foreach (var blob in new[] { config, corrupt, missing })
                {
                    await pusher.PushBlobMonolithicAsync("check/app", blob);
                }

                await pusher.PushManifestAsync("check/app", "v1", config, [corrupt, missing]);
            }

            // Blobs are sealed at rest: each is stored at its sealed copy's address.
            var vault = server.GetService<IBlobVault>();
            var corruptAddress = (await vault.FindSealedAsync(BlobScope.Master, Digest.Sha256Of(corrupt), CancellationToken.None))!.Address;
            var missingAddress = (await vault.FindSealedAsync(BlobScope.Master, Digest.Sha256Of(missing), CancellationToken.None))!.Address;

            // Stop without the wrapper's dispose, which would delete the data directory.
            await server.App.StopAsync();
            await server.App.DisposeAsync();
            var healthy = await CheckAsync(dataDirectory);
            Assert.Equal(0, healthy.ExitCode);
            Assert.Contains("checked 3 referenced blobs: no problems", healthy.StandardOutput, StringComparison.Ordinal);

            var corruptFile = BlobFile(dataDirectory, corruptAddress);
            var bytes = await File.ReadAllBytesAsync(corruptFile);
            bytes[SealedFormat.HeaderSize + 100] ^= 0xFF; // in the first segment's ciphertext (the header's padding after the wrapped key is not read)
            await File.WriteAllBytesAsync(corruptFile, bytes);
            File.Delete(BlobFile(dataDirectory, missingAddress));

            var damaged = await CheckAsync(dataDirectory, "--deep");
            Assert.Equal(1, damaged.ExitCode);
            Assert.True(damaged.StandardError.Contains($"{Digest.Sha256Of(corrupt)}: the sealed copy under aes256 cannot be read", StringComparison.Ordinal), damaged.StandardError); // a segment fails its tag
            Assert.Contains($"{Digest.Sha256Of(missing)}: referenced by a manifest but its sealed copy under aes256", damaged.StandardError, StringComparison.Ordinal);
            Assert.Contains("2 problems", damaged.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static Task<ProcessResult> CheckAsync(string dataDirectory, params string[] flags) =>
        WharfCommand.RunAsync(["check", .. flags, "--data-dir", dataDirectory], TimeSpan.FromMinutes(1));

    private static string BlobFile(string dataDirectory, Digest address)
    {
        var hex = address.Hex;
        return Directory.EnumerateFiles(dataDirectory, hex, SearchOption.AllDirectories).Single();
    }
}
