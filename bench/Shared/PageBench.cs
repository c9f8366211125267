using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wharf.Bench;

/// <summary>
/// What the page benchmarks (bench/gallery, bench/console) share: their options, a free port, and the timing
/// of a list of pages over one keep-alive client — warm-up requests, then timed ones, one markdown row per page
/// with the median and a high percentile of the time from sending the request to the page's last byte.
/// </summary>
internal static class PageBench
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The value after <paramref name="name"/> on the command line, or <paramref name="fallback"/>.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>The page's bytes; anything but 200 stops the benchmark (a page timed while failing measures nothing).</summary>
    public static async Task<byte[]> GetAsync(HttpClient client, string path, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        return response.StatusCode == HttpStatusCode.OK ? body : throw new InvalidOperationException($"{path}: {(int)response.StatusCode}");
    }

    /// <summary>Prints the table: per page, <paramref name="warmup"/> unmeasured requests, then <paramref name="requests"/> timed ones.</summary>
    public static async Task PrintTableAsync(HttpClient client, IReadOnlyList<(string Name, string Path)> pages, int warmup, int requests, int percentile, double targetMs, CancellationToken ct)
    {
        Console.WriteLine(string.Create(Invariant, $"| page | median (ms) | p{percentile} (ms) | page size (KiB) | target | |"));
        Console.WriteLine("|---|---:|---:|---:|---|---|");
        foreach (var (name, path) in pages)
        {
            var size = 0;
            for (var i = 0; i < warmup; i++)
            {
                size = (await GetAsync(client, path, ct)).Length;
            }

            var times = new List<double>(requests);
            for (var i = 0; i < requests; i++)
            {
                var watch = Stopwatch.StartNew();
                await GetAsync(client, path, ct);
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            var median = times[times.Count / 2];
            var high = times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * percentile / 100.0) - 1)];
            var shown = path.Length > 70 ? path[..70] + "…" : path;
            Console.WriteLine(string.Create(Invariant, $"| {name} (`{shown}`) | {median:F2} | {high:F2} | {size / 1024.0:F1} | p{percentile} ≤ {targetMs:F0} ms | {(high <= targetMs ? "PASS" : "MISS")} |"));
        }
    }
}
