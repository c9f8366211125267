using System.Net;
using Wharf.Server.Hosting;
using Wharf.Server.Telemetry;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Telemetry;

/// <summary>Who may scrape: the allow-list on the main port, the metrics port of its own, and the settings' validation.</summary>
public sealed class MetricsAccessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("127.0.0.0/8, ::1", "127.0.0.1", true)]
    [InlineData("127.0.0.0/8, ::1", "::1", true)]
    [InlineData("127.0.0.0/8, ::1", "::ffff:127.0.0.1", true)]
    [InlineData("127.0.0.0/8, ::1", "10.1.2.3", false)]
    [InlineData("10.0.0.0/8 192.168.1.7", "10.200.0.1", true)]
    [InlineData("10.0.0.0/8 192.168.1.7", "192.168.1.7", true)]
    [InlineData("10.0.0.0/8 192.168.1.7", "192.168.1.8", false)]
    [InlineData("fd00::/8", "fd12::1", true)]
    [InlineData("", "127.0.0.1", false)]
    [InlineData("any", "203.0.113.9", true)]
    public void The_allow_list_admits_addresses_and_blocks(string setting, string remote, bool allowed)
    {
        var list = MetricsAllowList.TryParse(setting, out var problem);
        Assert.Null(problem);
        Assert.Equal(allowed, list!.Allows(IPAddress.Parse(remote)));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("example.com")]
    [InlineData("127.0.0.1, 10.0.0.0/8, nope")]
    public void A_bad_allow_list_is_refused_at_start_naming_the_entry(string setting)
    {
        var problem = new WharfOptionsValidator().FirstProblem(new WharfOptions { Telemetry = { Metrics = { AllowFrom = setting } } });
        Assert.NotNull(problem);
        Assert.StartsWith("Telemetry:Metrics:AllowFrom has '", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_outside_the_allow_list_gets_403_and_no_metrics()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Telemetry:Metrics:AllowFrom"] = "10.0.0.0/8, 192.0.2.1" });
        using var client = server.CreateClient();
        using var response = await client.GetAsync("/metrics", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("Telemetry:Metrics:AllowFrom", body, StringComparison.Ordinal);
        Assert.DoesNotContain("wharf_", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_on_their_own_port_are_served_there_only()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Telemetry:Metrics:Port"] = "0" });
        var port = server.GetService<MetricsListener>().EndPoint?.Port;
        Assert.NotNull(port);
        Assert.NotEqual(server.BaseAddress.Port, port);
        using var client = server.CreateClient();
        using (var v2 = await client.GetAsync("/v2/", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        }

        var own = new Uri($"http://127.0.0.1:{port}/");
        var scrape = await Scrape.GetAsync(client, new Uri(own, "metrics"), Ct);
        Assert.True(scrape.Has("wharf_requests_total", ("surface", "v2"), ("operation", "Base")));

        using var onMain = await client.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.NotFound, onMain.StatusCode);
        using var registryOnMetricsPort = await client.GetAsync(new Uri(own, "v2/"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, registryOnMetricsPort.StatusCode);
    }

    [Fact]
    public async Task Metrics_switched_off_are_not_served()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Telemetry:Metrics:Enabled"] = "false" });
        using var client = server.CreateClient();
        using var response = await client.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
