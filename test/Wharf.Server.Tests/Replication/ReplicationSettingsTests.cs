using Wharf.Server.Tests.Hosting;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>The <c>Replication:*</c> settings are validated at start, each refusal one line naming the setting.</summary>
public sealed class ReplicationSettingsTests
{
    [Theory]
    [InlineData("WHARF__Replication__Concurrency", "0", "Replication:Concurrency is 0; set a number of copies at once from 1 to 64")]
    [InlineData("WHARF__Replication__Interval", "00:00:00", "Replication:Interval is 00:00:00; set a positive duration")]
    [InlineData("WHARF__Replication__MaxRetryWindow", "-01:00:00", "Replication:MaxRetryWindow is -01:00:00; set a positive duration")]
    public async Task A_replication_setting_out_of_range_is_refused_at_start(string variable, string value, string expected)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = await WharfCommand.RunAsync(["serve", "--data-dir", dataDirectory, "--port", "0", "--public-port", "0"],
                TimeSpan.FromMinutes(1),
                new Dictionary<string, string> { ["WHARF__Auth"] = "Open", [variable] = value });
            StartupTests.AssertRefused(result, expected);
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }
}
