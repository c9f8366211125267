using System.Diagnostics;
using System.Globalization;
using Wharf.Bench.Scan;

// The scan benchmark: Wharf's analyser over a generated layer (gzip, and the same tar as zstd), side by
// side with the same file decompressed and walked by .NET (every entry's data read) and by
// `gzip -dc | tar -t` / `zstd -dc | tar -t`. Each .NET measurement runs in a fresh child process, which
// reports its peak RSS and the bytes it allocated. See bench/README.md.
//   run [--sizes 256,1024] [--runs 3] [--formats gzip,zstd] [--dir $TMPDIR/wharf-bench-scan]
//                                                             prints the markdown table; layers are cached in --dir
//   measure <wharf|dotnet|dotnet-skip>[-warm] <file>          one measurement (child mode): "<s> <CPU s> <peak RSS KiB> <allocated bytes>",
//                                                             then what the analyser found; -warm measures a second pass
var invariant = CultureInfo.InvariantCulture;
if (args.FirstOrDefault() == "measure")
{
    var (seconds, cpu, allocated, summary) = await Measure.RunAsync(args[1], args[2]);
    Console.WriteLine(string.Create(invariant, $"{seconds:F3} {cpu:F3} {Measure.PeakRssKiB()} {allocated}"));
    Console.WriteLine(summary);
    return 0;
}

var sizes = Option("--sizes", "256,1024").Split(',').Select(s => long.Parse(s, invariant)).ToArray();
var runs = int.Parse(Option("--runs", "3"), invariant);
var formats = Option("--formats", "gzip,zstd").Split(',');
var directory = Option("--dir", Path.Combine(Path.GetTempPath(), "wharf-bench-scan"));
Directory.CreateDirectory(directory);
var layers = sizes.ToDictionary(s => s, s => Layer.Ensure(directory, s, formats.Contains("zstd")));

Console.WriteLine(string.Create(invariant, $"Scan benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, median of {runs} runs, each .NET run in a fresh process."));
foreach (var (mib, layer) in layers)
{
    var stored = formats.Select(f => string.Create(invariant, $"{f} {new FileInfo(f == "zstd" ? layer.Zstd : layer.Gzip).Length / 1048576.0:F0} MiB"));
    Console.WriteLine(string.Create(invariant,
        $"Layer {mib} MiB: {layer.TarBytes / 1048576.0:F0} MiB of tar (uncompressed), {layer.Entries:N0} entries of which {layer.Files:N0} files; {string.Join(", ", stored)}."));
}

Console.WriteLine();
Console.WriteLine("| layer (tar → compressed) | reader | time (s) | CPU (s) | MB/s tar | MB/s compressed | peak RSS (MiB) | allocated (MiB) | time ÷ .NET walk, same pass |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
var found = new SortedSet<string>(StringComparer.Ordinal);
foreach (var (mib, layer) in layers)
{
    foreach (var format in formats)
    {
        var file = format == "zstd" ? layer.Zstd : layer.Gzip;
        var compressed = new FileInfo(file).Length;
        using (var warm = File.OpenRead(file))
        {
            warm.CopyTo(Stream.Null); // the page cache, so no reader pays for the disk
        }

        var cli = $"{format} -dc \\| tar -t";
        var readers = new List<string> { "wharf", "dotnet", "wharf-warm", "dotnet-warm" };
        if (OnPath(format))
        {
            readers.Add(cli);
        }

        // Runs interleave the readers, so a change in the machine's load falls on all of them alike.
        var samples = readers.ToDictionary(r => r, _ => new List<Sample>());
        for (var i = 0; i < runs; i++)
        {
            foreach (var reader in readers)
            {
                samples[reader].Add(reader == cli ? Shell(format, file) : Child(reader, file));
            }
        }

        var results = samples.ToDictionary(s => s.Key, s => new Sample(Median(s.Value.Select(v => v.Seconds)), Median(s.Value.Select(v => v.CpuSeconds)), Median(s.Value.Select(v => v.RssMiB)), Median(s.Value.Select(v => v.AllocatedMiB))));
        foreach (var (reader, (seconds, cpu, rss, allocated)) in results)
        {
            var walk = format == "zstd" ? "ZstdSharp + TarReader" : "GZipStream + TarReader";
            var name = reader switch
            {
                "wharf" => "Wharf analyser, 1st pass",
                "wharf-warm" => "Wharf analyser, 2nd pass",
                "dotnet" => walk + ", 1st pass",
                "dotnet-warm" => walk + ", 2nd pass",
                _ => reader,
            };

            // Each against the .NET walk of the same pass; the command line against the first (a fresh process too).
            var ratio = (seconds / results[reader.EndsWith("-warm", StringComparison.Ordinal) ? "dotnet-warm" : "dotnet"].Seconds).ToString("F2", invariant);
            Console.WriteLine(string.Create(invariant,
                $"| {layer.TarBytes / 1048576.0:F0} MiB → {compressed / 1048576.0:F0} MiB {format} | {name} | {seconds:F2} | {cpu:F2} | {layer.TarBytes / 1e6 / seconds:F0} | {compressed / 1e6 / seconds:F0} | {Value(rss)} | {Value(allocated)} | {ratio} |"));
        }
    }
}

Console.WriteLine();
Console.WriteLine("The analyser found, in every run: " + string.Join("; ", found) + ".");
return 0;

Sample Child(string reader, string file)
{
    // Started as "dotnet <dll>" or as the apphost, as this process was.
    var self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
    {
        start.ArgumentList.Add(typeof(Layer).Assembly.Location);
    }

    foreach (var argument in new[] { "measure", reader, file })
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd().Split('\n');
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"the {reader} measurement of {file} failed (exit code {process.ExitCode})");
    }

    var numbers = output[0].Split(' ').Select(n => double.Parse(n, invariant)).ToArray();
    if (reader.StartsWith("wharf", StringComparison.Ordinal))
    {
        found.Add(output[1].Trim());
    }

    return new Sample(numbers[0], numbers[1], numbers[2] / 1024, numbers[3] / 1048576);
}

Sample Shell(string format, string file)
{
    // bash's `times` prints the shell's CPU time, then its children's: "0m1.234s 0m0.056s".
    var watch = Stopwatch.StartNew();
    using var process = Process.Start(new ProcessStartInfo("bash", ["-c", "set -o pipefail; \"$0\" -dc \"$1\" | tar -t > /dev/null && times", format, file]) { RedirectStandardOutput = true })!;
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    var seconds = watch.Elapsed.TotalSeconds;
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{format} -dc | tar -t failed on {file}");
    }

    var cpu = output.Split('\n')[1].Split(' ').Sum(t =>
    {
        var m = t.IndexOf('m', StringComparison.Ordinal);
        return (60 * double.Parse(t[..m], invariant)) + double.Parse(t[(m + 1)..^1], invariant);
    });
    return new Sample(seconds, cpu, double.NaN, double.NaN);
}

static bool OnPath(string tool) =>
    (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

static string Value(double mib) => double.IsNaN(mib) ? "—" : mib.ToString("F0", CultureInfo.InvariantCulture);

string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

/// <summary>One measurement: wall and CPU seconds, peak RSS and bytes allocated (NaN where not measured).</summary>
internal sealed record Sample(double Seconds, double CpuSeconds, double RssMiB, double AllocatedMiB);
