using System.Net;
using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// Settings layer as documented: appsettings.json, then <c>--config</c>, then <c>WHARF__*</c>, then flags;
/// unprefixed environment variables are ignored. Observed through the running process.
/// </summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-config-" + Guid.NewGuid().ToString("N"));

    public ConfigurationTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task A_settings_file_applies_and_WHARF_variables_override_it()
    {
        var settings = Path.Combine(directory, "wharf.json");
        await File.WriteAllTextAsync(settings, JsonSerializer.Serialize(new { Registry = new { CreateOnPush = false } }));

        await using (var fromFile = await WharfProcess.StartAsync(Path.Combine(directory, "a"), null, "--config", settings))
        {
            var refused = await StartUploadAsync(fromFile);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            Assert.Contains("NAME_UNKNOWN", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using var overridden = await WharfProcess.StartAsync(
            Path.Combine(directory, "b"),
            new Dictionary<string, string> { ["WHARF__Registry__CreateOnPush"] = "true" },
            "--config",
            settings);
        Assert.Equal(HttpStatusCode.Accepted, (await StartUploadAsync(overridden)).StatusCode);
    }

    [Fact]
    public async Task A_WHARF_variable_alone_turns_create_on_push_off()
    {
        await using var server = await WharfProcess.StartAsync(directory, new Dictionary<string, string> { ["WHARF__Registry__CreateOnPush"] = "false" });
        Assert.Equal(HttpStatusCode.NotFound, (await StartUploadAsync(server)).StatusCode);
    }

    [Fact]
    public async Task Flags_beat_WHARF_variables_and_unprefixed_variables_are_ignored()
    {
        // Either variable, if it won, would stop the server from starting at all.
        await using var server = await WharfProcess.StartAsync(directory, new Dictionary<string, string>
        {
            ["WHARF__Port"] = "70000",
            ["ADDRESS"] = "not-an-address",
            ["PORT"] = "70001",
        });

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"127.0.0.1:{server.Port}", server.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> StartUploadAsync(WharfProcess server)
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        return await client.PostAsync(new Uri("/v2/brand/new/blobs/uploads/", UriKind.Relative), null);
    }
}
