using System.Globalization;
using System.Text.RegularExpressions;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// The Native AOT executable unmaps its compressed type data once the runtime has expanded it (<c>DehydratedData</c>):
/// the range it names is a read-only mapping of the executable itself, none of its pages stays mapped, and the server
/// serves as before (nothing reads those pages again). <c>.ci/run</c> runs it against the shipped executable; on the
/// build's <c>dotnet wharf.dll</c> (no <c>WHARF_TEST_BINARY</c>) it checks that the JIT runtime releases nothing.
/// </summary>
public sealed partial class DehydratedDataTests : IDisposable
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-dehydrated-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dataDirectory))
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task The_native_executable_unmaps_its_compressed_type_data_after_start_and_serves_as_before()
    {
        await using var server = await WharfProcess.StartAsync(dataDirectory, new Dictionary<string, string> { ["WHARF__Logging__LogLevel__Wharf"] = "Debug" });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        using var answer = await client.GetAsync(new Uri("/v2/", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        await Task.Delay(500); // the console logger writes from a queue of its own

        var released = Released().Match(server.StandardOutput);
        if (WharfCommand.Binary is null)
        {
            Assert.False(released.Success, server.StandardOutput);
            return;
        }

        Assert.True(released.Success, server.StandardOutput);
        var start = long.Parse(released.Groups["start"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var length = long.Parse(released.Groups["length"].Value, CultureInfo.InvariantCulture);
        Assert.True(length >= 1 << 20, $"{length} bytes released"); // 7.8 MB in today's executable
        Assert.Equal(0, start % Environment.SystemPageSize);
        Assert.Equal(0, length % Environment.SystemPageSize);

        // Inside one private, read-only mapping of the executable file (not the runtime's heap, not its writable data).
        var executable = Path.GetFullPath(WharfCommand.Binary);
        var mappings = File.ReadAllLines($"/proc/{server.ProcessId}/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length == 6)
            .Select(parts => (Range: parts[0].Split('-'), Permissions: parts[1], Offset: parts[2], Path: parts[5].Trim()))
            .Select(m => (From: Convert.ToInt64(m.Range[0], 16), To: Convert.ToInt64(m.Range[1], 16), m.Permissions, m.Offset, m.Path))
            .ToList();
        var mapping = mappings.SingleOrDefault(m => m.From <= start && start + length <= m.To);
        Assert.Equal("r--p", mapping.Permissions);
        Assert.Equal(executable, mapping.Path);
        Assert.Equal(0, MappedPages(server.ProcessId, start, length));

        // The count can see a mapped page: the executable's first, its ELF header, which the loader read.
        var header = mappings.First(m => m.Path == executable && Convert.ToInt64(m.Offset, 16) == 0);
        Assert.Equal(1, MappedPages(server.ProcessId, header.From, Environment.SystemPageSize));

        // The server works as before (the expanded copy is what the runtime uses), and nothing faults those pages back.
        const string Repository = "dehydrated/app";
        var manifest = await Oci.PushImageAsync(client, Repository, "v1");
        using var pulled = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v2/{Repository}/manifests/v1") { Headers = { { "Accept", Oci.ManifestType } } });
        Assert.Equal(System.Net.HttpStatusCode.OK, pulled.StatusCode);
        Assert.Equal(manifest, await pulled.Content.ReadAsByteArrayAsync());
        using var api = await client.GetAsync(new Uri("/v2/_catalog", UriKind.Relative));
        Assert.Contains(Repository, await api.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, MappedPages(server.ProcessId, start, length));
    }

    /// <summary>How many pages of [start, start + length) the process has mapped (<c>/proc/PID/pagemap</c>'s present bit).</summary>
    private static int MappedPages(int pid, long start, long length)
    {
        var page = Environment.SystemPageSize;
        var entries = new byte[length / page * 8];
        using (var pagemap = File.OpenHandle($"/proc/{pid}/pagemap"))
        {
            Assert.Equal(entries.Length, RandomAccess.Read(pagemap, entries, start / page * 8));
        }

        var mapped = 0;
        for (var i = 0; i < entries.Length; i += 8)
        {
            if ((BitConverter.ToUInt64(entries, i) & (1UL << 63)) != 0)
            {
                mapped++;
            }
        }

        return mapped;
    }

    [GeneratedRegex(@"compressed type data, at 0x(?<start>[0-9a-f]+), (?<length>\d+) bytes")]
    private static partial Regex Released();
}
