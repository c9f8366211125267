using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using Wharf.Scanning;
using Wharf.Scanning.Layers;

namespace Wharf.Bench.Scan;

/// <summary>One measurement, in the child process that makes it: a reader over a layer file.</summary>
internal static class Measure
{
    /// <summary>
    /// Reads the layer with <paramref name="reader"/> — <c>wharf</c>: the analyser; <c>dotnet</c>: decompress
    /// and walk, every entry's data read; <c>dotnet-skip</c>: the same walk letting TarReader skip the data —
    /// once (the process's first pass, code still being jitted) or, with <c>-warm</c> after the name, twice,
    /// measuring the second (as in a registry that has scanned before). Returns the measured pass's wall and
    /// CPU time, the bytes it allocated and, for the analyser, what it found.
    /// </summary>
    public static async Task<(double Seconds, double CpuSeconds, long Allocated, string Found)> RunAsync(string reader, string file)
    {
        var warm = reader.EndsWith("-warm", StringComparison.Ordinal);
        reader = warm ? reader[..^"-warm".Length] : reader;
        if (warm)
        {
            await PassAsync(reader, file);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var found = await PassAsync(reader, file);
        return (watch.Elapsed.TotalSeconds, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds, GC.GetTotalAllocatedBytes(precise: true) - before, found);
    }

    private static async Task<string> PassAsync(string reader, string file)
    {
        if (reader == "wharf")
        {
            var inventory = await ImageAnalyzer.AnalyzeAsync(
                [new ImageLayer("sha256:" + new string('0', 64), _ => Task.FromResult<Stream>(Open(file)))],
                LayerLimits.Default,
                CancellationToken.None);
            var counts = inventory.Packages.GroupBy(p => p.Manager).ToDictionary(g => g.Key, g => g.Count());
            return counts.ContainsKey("dpkg") && counts.ContainsKey("npm")
                ? $"{inventory.Os?.PrettyName}: " + string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Value} {c.Key}")))
                : throw new InvalidOperationException("the analyser found no dpkg or no npm packages: the benchmark layer is wrong");
        }

        await using var stream = Open(file);
        await using var decompressed = file.EndsWith(".zst", StringComparison.Ordinal) ? new ZstdSharp.DecompressionStream(stream) : (Stream)new GZipStream(stream, CompressionMode.Decompress);
        await using var tar = new TarReader(decompressed);
        while (await tar.GetNextEntryAsync() is { } entry)
        {
            if (entry.DataStream is { } data && reader != "dotnet-skip")
            {
                await data.CopyToAsync(Stream.Null);
            }
        }

        return "-";
    }

    /// <summary>This process's peak resident set (<c>VmHWM</c>), in KiB.</summary>
    public static long PeakRssKiB() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static FileStream Open(string file) =>
        new(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
