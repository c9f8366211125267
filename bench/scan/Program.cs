using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Wharf.Scanning;
using Wharf.Scanning.Layers;

// The scan benchmark: Wharf's analyser over a generated gzip layer, side by side with the same layer
// decompressed and walked (every entry's data read) by .NET's GZipStream + TarReader and by
// `gzip -dc | tar -t`. Each measurement runs in a fresh child process, which reports its peak RSS.
//   run [--sizes 256,1024] [--runs 3]     prints the markdown table
//   generate <file> <MiB>                 writes a layer
//   measure <wharf|dotnet> <file>         one measurement (child mode): "<seconds> <peak RSS KiB> <allocated bytes>"
var invariant = CultureInfo.InvariantCulture;
switch (args.FirstOrDefault())
{
    case "generate":
        Layer.Generate(args[1], long.Parse(args[2], invariant) << 20);
        return 0;
    case "measure":
        var (seconds, allocated) = await Measure.RunAsync(args[1], args[2]);
        Console.WriteLine(string.Create(invariant, $"{seconds:F3} {Measure.PeakRssKiB()} {allocated}"));
        return 0;
}

var sizes = Option("--sizes", "256,1024").Split(',').Select(s => long.Parse(s, invariant)).ToArray();
var runs = int.Parse(Option("--runs", "3"), invariant);
var directory = Path.Combine(Path.GetTempPath(), "wharf-bench-scan");
Directory.CreateDirectory(directory);
var self = Environment.ProcessPath!;
var dll = typeof(Layer).Assembly.Location;
Console.WriteLine($"Scan benchmark, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, median of {runs} runs, each in a fresh process.");
Console.WriteLine();
Console.WriteLine("| layer (uncompressed → gzip) | reader | time (s) | MB/s uncompressed | MB/s gzip | peak RSS (MiB) | allocated (MiB) | Wharf ÷ reader |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
foreach (var mib in sizes)
{
    var file = Path.Combine(directory, $"layer-{mib}.tar.gz");
    if (!File.Exists(file))
    {
        Layer.Generate(file, mib << 20);
    }

    var compressed = new FileInfo(file).Length;
    var uncompressed = Layer.UncompressedLength(file);
    var results = new Dictionary<string, (double Seconds, long Rss, long Allocated)>();
    foreach (var reader in new[] { "wharf", "dotnet", "gzip -dc + tar -t" })
    {
        var samples = new List<(double, long, long)>();
        for (var i = 0; i < runs; i++)
        {
            samples.Add(reader == "gzip -dc + tar -t" ? Shell(file) : Child(reader, file));
        }

        results[reader] = samples.OrderBy(s => s.Item1).ElementAt(samples.Count / 2);
    }

    foreach (var (reader, (seconds, rss, allocated)) in results)
    {
        var ratio = reader == "wharf" ? "—" : (results["wharf"].Seconds / seconds).ToString("F2", invariant) + "× the time";
        Console.WriteLine(string.Create(invariant,
            $"| {uncompressed / 1048576.0:F0} MiB → {compressed / 1048576.0:F0} MiB | {reader} | {seconds:F2} | {uncompressed / 1e6 / seconds:F0} | {compressed / 1e6 / seconds:F0} | {(rss < 0 ? "—" : (rss / 1024.0).ToString("F0", invariant))} | {(allocated < 0 ? "—" : (allocated / 1048576.0).ToString("F0", invariant))} | {ratio} |"));
    }
}

return 0;

(double, long, long) Child(string reader, string file)
{
    // Run as "dotnet <dll>" or as the apphost: the child is started the same way.
    var viaDotnet = Path.GetFileNameWithoutExtension(self) == "dotnet";
    var start = new ProcessStartInfo(self, viaDotnet ? $"{dll} measure {reader} {file}" : $"measure {reader} {file}") { RedirectStandardOutput = true };
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd().Trim().Split(' ');
    process.WaitForExit();
    return (double.Parse(output[0], invariant), long.Parse(output[1], invariant), long.Parse(output[2], invariant));
}

(double, long, long) Shell(string file)
{
    var watch = Stopwatch.StartNew();
    using var process = Process.Start(new ProcessStartInfo("bash", ["-c", $"gzip -dc '{file}' | tar -t > /dev/null"]))!;
    process.WaitForExit();
    return (watch.Elapsed.TotalSeconds, -1, -1);
}

string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

/// <summary>The generated layer: what a language runtime image holds, at scale.</summary>
internal static class Layer
{
    private static readonly string[] Binaries = ["/usr/local/bin/docker", "/usr/bin/dpkg", "/usr/bin/gzip", "/usr/bin/tar"];

    /// <summary>
    /// A deterministic gzip tar of about <paramref name="size"/> uncompressed bytes: this machine's dpkg
    /// status and os-release, real executables (the docker CLI is a Go binary the analyser reads build
    /// information from), a jar, a thousand node_modules packages, and data files of mixed sizes, half
    /// compressible.
    /// </summary>
    public static void Generate(string path, long size)
    {
        var random = new Random(20261125);
        using var file = File.Create(path + ".tmp");
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            long written = 0;
            void Add(string name, byte[] content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), Mode = mode });
                written += content.Length;
            }

            Add("etc/os-release", File.ReadAllBytes("/etc/os-release"));
            Add("var/lib/dpkg/status", File.ReadAllBytes("/var/lib/dpkg/status"));
            var executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            foreach (var binary in Binaries.Where(File.Exists))
            {
                Add("usr/bin/" + Path.GetFileName(binary), File.ReadAllBytes(binary), executable);
            }

            foreach (var jar in Directory.Exists("/usr/share/maven-repo") ? Directory.EnumerateFiles("/usr/share/maven-repo", "*.jar", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(5) : [])
            {
                Add("app/lib/" + Path.GetFileName(jar), File.ReadAllBytes(jar));
            }

            for (var i = 0; i < 1000; i++)
            {
                Add($"app/node_modules/pkg{i}/package.json", Encoding.UTF8.GetBytes($"{{\"name\":\"pkg{i}\",\"version\":\"1.{i % 50}.{i % 7}\",\"description\":\"generated\"}}"));
            }

            var block = new byte[1 << 16];
            random.NextBytes(block);
            var n = 0;
            while (written < size)
            {
                // Sizes from 1 KiB to 8 MiB; even files are text-like (compressible), odd ones random.
                var length = (int)Math.Min(size - written, 1024L << random.Next(0, 14));
                var content = new byte[length];
                if (n % 2 == 0)
                {
                    for (var o = 0; o < length; o += 64)
                    {
                        Encoding.ASCII.GetBytes($"line {o,12} of file {n,8} lorem ipsum dolor\n".PadRight(64).AsSpan(0, Math.Min(64, length - o)), content.AsSpan(o));
                    }
                }
                else
                {
                    random.NextBytes(content);
                }

                Add($"data/{n % 100}/file{n}.bin", content);
                n++;
            }
        }

        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static long UncompressedLength(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = gzip.Read(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }
}

internal static class Measure
{
    public static async Task<(double Seconds, long Allocated)> RunAsync(string reader, string file)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        if (reader == "wharf")
        {
            var inventory = await ImageAnalyzer.AnalyzeAsync(
                [new ImageLayer("sha256:" + new string('0', 64), _ => Task.FromResult<Stream>(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan)))],
                LayerLimits.Default,
                CancellationToken.None);
            if (inventory.Packages.Count == 0)
            {
                throw new InvalidOperationException("the analyser found no packages: the benchmark layer is wrong");
            }
        }
        else
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            await using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync() is { } entry)
            {
                if (entry.DataStream is { } data)
                {
                    await data.CopyToAsync(Stream.Null);
                }
            }
        }

        return (watch.Elapsed.TotalSeconds, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    /// <summary>This process's peak resident set (VmHWM), in KiB.</summary>
    public static long PeakRssKiB() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
