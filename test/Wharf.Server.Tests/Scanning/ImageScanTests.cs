using System.Diagnostics;
using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Scanning;

[CollectionDefinition(nameof(ScanCollection))]
public sealed class ScanCollection : ICollectionFixture<ScanFixture>;

/// <summary>
/// One server scanning on push every repository under <c>scan/</c>, with the fixture database of real
/// advisories imported by <c>wharf vulndb import</c>, and the scan job on a one-second interval.
/// </summary>
public sealed class ScanFixture : IAsyncLifetime
{
    public const string Region = "us-east-1";

    private WharfTestServer? server;

    public WharfTestServer Server => server ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Scanning:Interval"] = "00:00:01" });
        foreach (var source in new[] { "Debian", "Alpine", "GitHub" })
        {
            (await WharfCommand.RunAsync(["vulndb", "import", ScanTestImages.FixtureDirectory(source), "--data-dir", server.DataDirectory], TimeSpan.FromMinutes(1))).EnsureSuccess();
        }

        (await AwsAsync(
            "ecr", "put-registry-scanning-configuration", "--scan-type", "BASIC",
            "--rules", """[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"scan/*","filterType":"WILDCARD"}]}]""")).EnsureSuccess();
    }

    public Task<ProcessResult> AwsAsync(params string[] args) => AwsClients.CliAsync(Server.BaseAddress, Region, args);

    /// <summary>
    /// Waits for the scan job to pick up the push (until <c>DescribeImageScanFindings</c> stops answering
    /// <c>ScanNotFoundException</c>), then for the scan to finish; returns the findings as the CLI prints
    /// them. With <paramref name="waiter"/>, the finish is awaited with the CLI's own waiter.
    /// </summary>
    public async Task<JsonElement> FindingsAsync(string repository, string tag, bool waiter = true)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var result = await AwsAsync("ecr", "describe-image-scan-findings", "--repository-name", repository, "--image-id", $"imageTag={tag}");
            if (result.ExitCode == 0)
            {
                var status = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("imageScanStatus").GetProperty("status").GetString();
                if (status != ScanStatuses.InProgress)
                {
                    return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
                }

                if (waiter)
                {
                    (await AwsAsync("ecr", "wait", "image-scan-complete", "--repository-name", repository, "--image-id", $"imageTag={tag}")).EnsureSuccess();
                    waiter = false;
                    continue;
                }
            }
            else
            {
                Assert.Contains("ScanNotFoundException", result.StandardError, StringComparison.Ordinal);
            }

            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), $"no finished scan of {repository}:{tag} after {watch.Elapsed}: {result.StandardOutput}{result.StandardError}");
            await Task.Delay(300);
        }
    }

    /// <summary>The layer digests of the pushed image, in order.</summary>
    public async Task<string[]> LayersAsync(string repository, string tag)
    {
        var images = JsonDocument.Parse((await AwsAsync("ecr", "batch-get-image", "--repository-name", repository, "--image-ids", $"imageTag={tag}")).EnsureSuccess().StandardOutput);
        var manifest = JsonDocument.Parse(images.RootElement.GetProperty("images")[0].GetProperty("imageManifest").GetString()!);
        return [.. manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>
/// Scan on push end to end: real images built with buildah, pushed with buildah and skopeo, scanned by
/// the job from the outbox, and read with <c>aws ecr describe-image-scan-findings</c> — each compared with
/// the exact findings the fixture database implies (package, version, advisory, fixed version,
/// severity, layer).
/// </summary>
[Collection(nameof(ScanCollection))]
public sealed class ImageScanTests(ScanFixture fixture)
{
    /// <summary>One expected finding, as the test renders it for a readable diff.</summary>
    private sealed record Expected(string Name, string Package, string Version, string? FixedIn, string Severity, string Layer, string Manager)
    {
        public override string ToString() => $"{Name} {Package} {Version} fixed={FixedIn ?? "-"} {Severity} {Manager} {Layer[..19]}";
    }

    [Fact]
    public async Task A_Debian_image_with_this_machines_dpkg_status_reports_exactly_the_advisories_its_installed_versions_are_in()
    {
        var image = await ScanTestImages.DebianAsync();
        await ScanTestImages.PushAsync(image, $"{fixture.Server.HostAndPort}/scan/debian:1");
        var layer = Assert.Single(await fixture.LayersAsync("scan/debian", "1"));

        // The oracle is dpkg itself: which binary packages of each source are installed, and whether
        // their source version is before each advisory's fix.
        var installed = (await ProcessRunner.RunAsync("dpkg-query", ["-W", "-f", "${Package}\t${Version}\t${source:Package}\t${source:Version}\t${db:Status-Status}\n"], TimeSpan.FromMinutes(1)))
            .EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).Where(f => f[4] == "installed").ToList();
        var expected = new List<Expected>();
        foreach (var package in installed.Where(f => f[2] == "glibc"))
        {
            expected.Add(new Expected("CVE-2019-1010022", package[0], package[1], null, "CRITICAL", layer, "OS"));
            if (await DpkgLessAsync(package[3], "2.36-9+deb12u3"))
            {
                expected.Add(new Expected("CVE-2023-4911", package[0], package[1], "2.36-9+deb12u3", "HIGH", layer, "OS"));
            }
        }

        foreach (var package in installed.Where(f => f[2] == "nghttp2"))
        {
            if (await DpkgLessAsync(package[3], "1.52.0-1+deb12u1"))
            {
                expected.Add(new Expected("CVE-2023-44487", package[0], package[1], "1.52.0-1+deb12u1", "HIGH", layer, "OS"));
            }
        }

        Assert.NotEmpty(expected); // every Debian system has libc6
        var findings = await fixture.FindingsAsync("scan/debian", "1");
        AssertFindings(expected, findings);

        var basic = findings.GetProperty("imageScanFindings").GetProperty("findings").EnumerateArray().First(f => f.GetProperty("name").GetString() == "CVE-2019-1010022");
        Assert.Equal("https://security-tracker.debian.org/tracker/CVE-2019-1010022", basic.GetProperty("uri").GetString());
        var attributes = basic.GetProperty("attributes").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value").GetString()!);
        Assert.Equal("7.5", attributes["CVSS2_SCORE"]);
        Assert.Equal("AV:N/AC:L/Au:N/C:P/I:P/A:P", attributes["CVSS2_VECTOR"]);
        Assert.Equal("9.8", attributes["CVSS3_SCORE"]);
        Assert.Contains(attributes["package_name"], installed.Where(f => f[2] == "glibc").Select(f => f[0]));
    }

    [Fact]
    public async Task An_Alpine_image_reports_the_openssl_advisories_of_both_binary_packages_and_not_the_fixed_zlib_one()
    {
        var image = await ScanTestImages.AlpineAsync();
        await ScanTestImages.PushAsync(image, $"{fixture.Server.HostAndPort}/scan/alpine:3.17");
        var layer = Assert.Single(await fixture.LayersAsync("scan/alpine", "3.17"));
        var findings = await fixture.FindingsAsync("scan/alpine", "3.17");
        AssertFindings(
            [
                new("CVE-2023-0215", "libcrypto3", "3.0.7-r0", "3.0.8-r0", "HIGH", layer, "OS"),
                new("CVE-2023-0215", "libssl3", "3.0.7-r0", "3.0.8-r0", "HIGH", layer, "OS"),
                new("CVE-2023-0286", "libcrypto3", "3.0.7-r0", "3.0.8-r0", "HIGH", layer, "OS"),
                new("CVE-2023-0286", "libssl3", "3.0.7-r0", "3.0.8-r0", "HIGH", layer, "OS"),
            ],
            findings);
        Assert.Equal(4, findings.GetProperty("imageScanFindings").GetProperty("findingSeverityCounts").GetProperty("HIGH").GetInt32());
        Assert.False(findings.GetProperty("imageScanFindings").GetProperty("findingSeverityCounts").TryGetProperty("LOW", out _), "zero counts are left out, as ECR does");

        // The scan's event, in ECR's EventBridge shape, went to the outbox with the result.
        var events = await fixture.Server.GetService<IMetadataStore>().Events.ListAsync(0, 10_000, DateTimeOffset.MaxValue, TestContext.Current.CancellationToken);
        var scan = events.Where(e => e.Type == "ECR Image Scan").Select(e => JsonDocument.Parse(e.Payload).RootElement)
            .Single(e => e.GetProperty("detail").GetProperty("repository-name").GetString() == "scan/alpine");
        Assert.Equal("aws.ecr", scan.GetProperty("source").GetString());
        Assert.Equal($"arn:aws:ecr:{ScanFixture.Region}:{scan.GetProperty("account").GetString()}:repository/scan/alpine", scan.GetProperty("resources")[0].GetString());
        Assert.Equal("COMPLETE", scan.GetProperty("detail").GetProperty("scan-status").GetString());
        Assert.Equal(4, scan.GetProperty("detail").GetProperty("finding-severity-counts").GetProperty("HIGH").GetInt32());
        Assert.Equal(["3.17"], scan.GetProperty("detail").GetProperty("image-tags").EnumerateArray().Select(t => t.GetString()!));
    }

    [Fact]
    public async Task Language_packages_are_reported_and_a_later_layer_that_deletes_one_removes_its_finding()
    {
        var image = await ScanTestImages.ApplicationAsync();
        await ScanTestImages.PushAsync(image, $"{fixture.Server.HostAndPort}/scan/app:1");
        var layer = Assert.Single(await fixture.LayersAsync("scan/app", "1"));
        Expected[] all =
        [
            new("CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.15.0", "CRITICAL", layer, "JAR"),
            new("CVE-2021-23337", "lodash", "4.17.20", "4.17.21", "HIGH", layer, "NPM"),
            new("CVE-2024-21907", "Newtonsoft.Json", "12.0.3", "13.0.1", "HIGH", layer, "NUGET"),
            new("CVE-2023-32681", "requests", "2.25.1", "2.31.0", "MEDIUM", layer, "PIP"),
        ];
        var findings = await fixture.FindingsAsync("scan/app", "1");
        AssertFindings(all, findings);
        var lodash = findings.GetProperty("imageScanFindings").GetProperty("enhancedFindings").EnumerateArray()
            .Single(f => f.GetProperty("packageVulnerabilityDetails").GetProperty("vulnerabilityId").GetString() == "CVE-2021-23337");
        Assert.Equal("app/package-lock.json", lodash.GetProperty("packageVulnerabilityDetails").GetProperty("vulnerablePackages")[0].GetProperty("filePath").GetString());
        Assert.Equal(["GHSA-35jh-r3h4-6jhm"], lodash.GetProperty("packageVulnerabilityDetails").GetProperty("relatedVulnerabilities").EnumerateArray().Select(r => r.GetString()!));
        Assert.Equal("YES", lodash.GetProperty("fixAvailable").GetString());

        var trimmed = await ScanTestImages.ApplicationWithoutRequirementsAsync();
        await ScanTestImages.PushAsync(trimmed, $"{fixture.Server.HostAndPort}/scan/app:trimmed");
        var layers = await fixture.LayersAsync("scan/app", "trimmed");
        Assert.Equal(2, layers.Length);
        Assert.Equal(layer, layers[0]);
        AssertFindings([.. all.Where(e => e.Package != "requests")], await fixture.FindingsAsync("scan/app", "trimmed"));
    }

    [Fact]
    public async Task A_scratch_image_is_unsupported_and_a_hostile_layer_fails_its_scan_with_the_reason()
    {
        await TestImages.BusyboxArchiveAsync();
        await ScanTestImages.PushAsync(TestImages.BusyboxLocalName, $"{fixture.Server.HostAndPort}/scan/busybox:1");
        var scratch = await fixture.FindingsAsync("scan/busybox", "1", waiter: false);
        Assert.Equal("UNSUPPORTED_IMAGE", scratch.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.StartsWith("UnsupportedImageError", scratch.GetProperty("imageScanStatus").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("scratch", scratch.GetProperty("imageScanStatus").GetProperty("description").GetString(), StringComparison.Ordinal);

        var hostile = await ScanTestImages.HostileLayoutAsync();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", $"oci:{hostile}:1", $"docker://{fixture.Server.HostAndPort}/scan/hostile:1")).EnsureSuccess();
        var failed = await fixture.FindingsAsync("scan/hostile", "1", waiter: false);
        Assert.Equal("FAILED", failed.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.Contains("..", failed.GetProperty("imageScanStatus").GetProperty("description").GetString(), StringComparison.Ordinal);

        // The CLI's waiter stops on a failed scan instead of waiting out its attempts.
        var waited = await fixture.AwsAsync("ecr", "wait", "image-scan-complete", "--repository-name", "scan/hostile", "--image-id", "imageTag=1");
        Assert.NotEqual(0, waited.ExitCode);
        Assert.Contains("FAILED", waited.StandardError, StringComparison.OrdinalIgnoreCase);

        // The server is unharmed: it serves the hostile image's manifest and keeps scanning.
        (await fixture.AwsAsync("ecr", "describe-images", "--repository-name", "scan/hostile")).EnsureSuccess();
    }

    [Fact]
    public async Task A_multi_arch_index_is_scanned_platform_by_platform()
    {
        var amd64 = await ScanTestImages.AlpineAsync("amd64");
        var arm64 = await ScanTestImages.ApplicationAsync("arm64");
        var s390x = await ScanTestImages.ScratchAsync("s390x");
        await ScanTestImages.PushIndexAsync("localhost/scan/multi:1", [amd64, arm64, s390x], $"{fixture.Server.HostAndPort}/scan/multi:1");
        var findings = await fixture.FindingsAsync("scan/multi", "1");

        // Two platforms scanned, the third unsupported: the index's scan is complete and says which was not.
        var description = findings.GetProperty("imageScanStatus").GetProperty("description").GetString();
        Assert.StartsWith("The scan was completed successfully. Not scanned: linux/s390x: UnsupportedImageError", description, StringComparison.Ordinal);
        var platforms = findings.GetProperty("imageScanFindings").GetProperty("findings").EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString()!, Platform: f.GetProperty("attributes").EnumerateArray().Single(a => a.GetProperty("key").GetString() == "platform").GetProperty("value").GetString()!))
            .ToList();
        Assert.Equal(4, platforms.Count(p => p.Name.StartsWith("CVE-2023-02", StringComparison.Ordinal) && p.Platform == "linux/amd64"));
        Assert.Contains(("CVE-2021-44228", "linux/arm64"), platforms);
        Assert.Equal(8, platforms.Count);

        // Each platform image is also scanned on its own (its push was recorded too).
        var index = JsonDocument.Parse((await fixture.AwsAsync("ecr", "batch-get-image", "--repository-name", "scan/multi", "--image-ids", "imageTag=1")).EnsureSuccess().StandardOutput);
        var children = JsonDocument.Parse(index.RootElement.GetProperty("images")[0].GetProperty("imageManifest").GetString()!).RootElement.GetProperty("manifests");
        Assert.Equal(3, children.GetArrayLength());
        foreach (var child in children.EnumerateArray())
        {
            var digest = child.GetProperty("digest").GetString()!;
            var scanned = await PollAsync("scan/multi", $"imageDigest={digest}");
            if (child.GetProperty("platform").GetProperty("architecture").GetString() == "s390x")
            {
                Assert.Equal("UNSUPPORTED_IMAGE", scanned.GetProperty("imageScanStatus").GetProperty("status").GetString());
                continue;
            }

            Assert.Equal("COMPLETE", scanned.GetProperty("imageScanStatus").GetProperty("status").GetString());
            Assert.Equal(4, scanned.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());
        }
    }

    [Fact]
    public async Task DescribeImages_shows_each_images_scan_status_and_summary()
    {
        var image = await ScanTestImages.AlpineAsync();
        await ScanTestImages.PushAsync(image, $"{fixture.Server.HostAndPort}/scan/summary:1");
        var findings = await fixture.FindingsAsync("scan/summary", "1");
        var detail = JsonDocument.Parse((await fixture.AwsAsync("ecr", "describe-images", "--repository-name", "scan/summary")).EnsureSuccess().StandardOutput)
            .RootElement.GetProperty("imageDetails")[0];
        Assert.Equal("COMPLETE", detail.GetProperty("imageScanStatus").GetProperty("status").GetString());
        var summary = detail.GetProperty("imageScanFindingsSummary");
        Assert.Equal(4, summary.GetProperty("findingSeverityCounts").GetProperty("HIGH").GetInt32());
        Assert.Equal(findings.GetProperty("imageScanFindings").GetProperty("imageScanCompletedAt").GetRawText(), summary.GetProperty("imageScanCompletedAt").GetRawText());
        Assert.True(summary.TryGetProperty("vulnerabilitySourceUpdatedAt", out _));

        // Paging: one finding per page, four pages, together the whole list in order.
        var pages = new List<string>();
        string? token = null;
        do
        {
            string[] paging = token is null ? ["--max-results", "1"] : ["--max-results", "1", "--next-token", token];
            var page = JsonDocument.Parse((await fixture.AwsAsync(["ecr", "describe-image-scan-findings", "--no-paginate", "--repository-name", "scan/summary", "--image-id", "imageTag=1", .. paging])).EnsureSuccess().StandardOutput).RootElement;
            var basic = page.GetProperty("imageScanFindings").GetProperty("findings");
            Assert.Equal(1, basic.GetArrayLength());
            Assert.Equal(1, page.GetProperty("imageScanFindings").GetProperty("enhancedFindings").GetArrayLength());
            pages.Add(basic[0].GetRawText());
            token = page.TryGetProperty("nextToken", out var next) ? next.GetString() : null;
        }
        while (token is not null);
        Assert.Equal(findings.GetProperty("imageScanFindings").GetProperty("findings").EnumerateArray().Select(f => f.GetRawText()), pages);
    }

    private async Task<JsonElement> PollAsync(string repository, string imageId)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var result = await fixture.AwsAsync("ecr", "describe-image-scan-findings", "--repository-name", repository, "--image-id", imageId);
            if (result.ExitCode == 0 && JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("imageScanStatus").GetProperty("status").GetString() != ScanStatuses.InProgress)
            {
                return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
            }

            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), $"no finished scan of {repository} {imageId}: {result.StandardError}");
            await Task.Delay(300);
        }
    }

    private static async Task<bool> DpkgLessAsync(string version, string than) =>
        (await ProcessRunner.RunAsync("dpkg", ["--compare-versions", version, "lt", than], TimeSpan.FromMinutes(1))).ExitCode == 0;

    /// <summary>The enhanced findings are exactly <paramref name="expected"/>; the basic ones name the same vulnerabilities and packages with the same severities.</summary>
    private static void AssertFindings(IReadOnlyList<Expected> expected, JsonElement response)
    {
        Assert.Equal("COMPLETE", response.GetProperty("imageScanStatus").GetProperty("status").GetString());
        var scan = response.GetProperty("imageScanFindings");
        var enhanced = scan.GetProperty("enhancedFindings").EnumerateArray().Select(f =>
        {
            var details = f.GetProperty("packageVulnerabilityDetails");
            var package = details.GetProperty("vulnerablePackages")[0];
            return new Expected(
                details.GetProperty("vulnerabilityId").GetString()!,
                package.GetProperty("name").GetString()!,
                package.GetProperty("version").GetString()!,
                package.TryGetProperty("fixedInVersion", out var fixedIn) ? fixedIn.GetString() : null,
                f.GetProperty("severity").GetString()!,
                package.GetProperty("sourceLayerHash").GetString()!,
                package.GetProperty("packageManager").GetString()!);
        }).ToList();
        Assert.Equal(Render(expected), Render(enhanced));

        var basic = scan.GetProperty("findings").EnumerateArray().Select(f =>
        {
            var attributes = f.GetProperty("attributes").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value").GetString()!);
            return $"{f.GetProperty("name").GetString()} {attributes["package_name"]} {attributes["package_version"]} {f.GetProperty("severity").GetString()}";
        }).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Select(e => $"{e.Name} {e.Package} {e.Version} {e.Severity}").Order(StringComparer.Ordinal), basic);

        var counts = scan.GetProperty("findingSeverityCounts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(expected.GroupBy(e => e.Severity).ToDictionary(g => g.Key, g => g.Count()).OrderBy(p => p.Key, StringComparer.Ordinal), counts.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    private static string Render(IEnumerable<Expected> findings) =>
        string.Join('\n', findings.Select(f => f.ToString()).Order(StringComparer.Ordinal)) + "\n";
}
