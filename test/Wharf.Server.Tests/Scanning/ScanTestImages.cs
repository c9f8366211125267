using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Wharf.Testing;

namespace Wharf.Server.Tests.Scanning;

/// <summary>
/// The scanning tests' images, built with buildah (<c>FROM scratch</c>, <c>COPY</c>, and a later layer
/// that deletes a file through <c>buildah mount</c>, which buildah commits as a whiteout), and one
/// hostile image whose layer no builder would make, written as an OCI layout.
/// </summary>
internal static class ScanTestImages
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "wharf-scan-images-" + Environment.ProcessId);
    private static readonly ContainerTools Tools = ContainerTools.Instance;

    public static string FixtureDirectory(string source) => Path.Combine(AppContext.BaseDirectory, "Scanning", "Fixtures", "osv", source);

    /// <summary>A Debian image with this machine's own <c>os-release</c> and dpkg status, and busybox.</summary>
    public static Task<string> DebianAsync(string arch = "amd64") => BuildAsync($"localhost/scan/debian-{arch}:1", arch, context =>
    {
        Copy("/etc/os-release", context, "etc/os-release");
        Copy("/var/lib/dpkg/status", context, "var/lib/dpkg/status");
        if (Requires.Which("/bin/busybox") is { } busybox)
        {
            Copy(busybox, context, "bin/busybox");
        }
    });

    /// <summary>An image from scratch with only busybox: nothing Wharf can scan.</summary>
    public static Task<string> ScratchAsync(string arch) => BuildAsync($"localhost/scan/scratch-{arch}:1", arch, context =>
    {
        Write(context, "bin/README", "no operating system here\n");
        if (Requires.Which("/bin/busybox") is { } busybox)
        {
            Copy(busybox, context, "bin/busybox");
        }
    });

    /// <summary>An Alpine 3.17.0-style image: its os-release and an apk database with the versions 3.17.0 shipped.</summary>
    public static Task<string> AlpineAsync(string arch = "amd64") => BuildAsync($"localhost/scan/alpine-{arch}:1", arch, context =>
    {
        Write(context, "etc/os-release", """
            NAME="Alpine Linux"
            ID=alpine
            VERSION_ID=3.17.0
            PRETTY_NAME="Alpine Linux v3.17"
            HOME_URL="https://alpinelinux.org/"
            BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"

            """);
        Write(context, "lib/apk/db/installed", string.Join('\n', Apk("libcrypto3", "3.0.7-r0", "openssl"), Apk("libssl3", "3.0.7-r0", "openssl"), Apk("zlib", "1.2.13-r0", "zlib")) + "\n");
    });

    /// <summary>An application image (from scratch) with npm, Python and NuGet lockfiles and a jar.</summary>
    public static Task<string> ApplicationAsync(string arch = "amd64") => BuildAsync($"localhost/scan/app-{arch}:1", arch, context =>
    {
        Write(context, "app/package-lock.json", """
            {"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
              "":{"name":"app","version":"1.0.0","dependencies":{"lodash":"^4.17.20","left-pad":"1.3.0"}},
              "node_modules/lodash":{"version":"4.17.20","resolved":"https://example.invalid/lodash-4.17.20.tgz"},
              "node_modules/left-pad":{"version":"1.3.0","resolved":"https://example.invalid/left-pad-1.3.0.tgz"}}}
            """);
        Write(context, "app/requirements.txt", "requests==2.25.1\nidna==3.7  # pinned\n");
        Write(context, "app/packages.lock.json", """
            {"version":1,"dependencies":{"net8.0":{
              "Newtonsoft.Json":{"type":"Direct","requested":"[12.0.3, )","resolved":"12.0.3","contentHash":"x"},
              "Serilog":{"type":"Direct","requested":"[3.1.1, )","resolved":"3.1.1","contentHash":"y"}}}}
            """);
        var jar = Path.Combine(context, "app", "lib", "log4j-core-2.14.1.jar");
        Directory.CreateDirectory(Path.GetDirectoryName(jar)!);
        using var zip = ZipFile.Open(jar, ZipArchiveMode.Create);
        using var writer = new StreamWriter(zip.CreateEntry("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties").Open());
        writer.Write("groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n");
    });

    /// <summary>The application image with a second layer that deletes <c>app/requirements.txt</c> (a whiteout).</summary>
    public static async Task<string> ApplicationWithoutRequirementsAsync()
    {
        var application = await ApplicationAsync();
        const string name = "localhost/scan/app-trimmed:1";
        var container = (await Tools.BuildahAsync("from", application)).EnsureSuccess().StandardOutput.Trim();
        var mount = (await Tools.BuildahAsync("mount", container)).EnsureSuccess().StandardOutput.Trim();
        File.Delete(Path.Combine(mount, "app", "requirements.txt"));
        (await Tools.BuildahAsync("umount", container)).EnsureSuccess();
        (await Tools.BuildahAsync("commit", "--rm", container, name)).EnsureSuccess();
        return name;
    }

    /// <summary>
    /// An image whose only layer climbs out of the root (<c>../escape</c>) after a valid dpkg status:
    /// written as an OCI layout, since no builder produces it.
    /// </summary>
    public static async Task<string> HostileLayoutAsync()
    {
        var directory = Path.Combine(Root, "hostile");
        if (Directory.Exists(directory))
        {
            return directory;
        }

        var blobs = Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256")).FullName;
        using var tar = new MemoryStream();
        await using (var gzip = new GZipStream(tar, CompressionLevel.Fastest, leaveOpen: true))
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, text) in new[] { ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"), ("../escape", "outside the root\n") })
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                await writer.WriteEntryAsync(entry);
            }
        }

        var layer = WriteBlob(blobs, tar.ToArray());
        var config = WriteBlob(blobs, Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{{layer.Digest}}}"]},"config":{}}"""));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = config.Digest, ["size"] = config.Size },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = layer.Digest, ["size"] = layer.Size }),
        };
        var manifestBlob = WriteBlob(blobs, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        await File.WriteAllTextAsync(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        await File.WriteAllTextAsync(Path.Combine(directory, "index.json"), $$$"""
            {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifestBlob.Digest}}}","size":{{{manifestBlob.Size}}},"annotations":{"org.opencontainers.image.ref.name":"1"}}]}
            """);
        return directory;
    }

    /// <summary>Pushes a containers-storage image to the registry.</summary>
    public static async Task PushAsync(string local, string destination) =>
        (await Tools.BuildahAsync("push", "--tls-verify=false", local, "docker://" + destination)).EnsureSuccess();

    /// <summary>Pushes an index of <paramref name="images"/> (and each image) to the registry.</summary>
    public static async Task PushIndexAsync(string name, IReadOnlyList<string> images, string destination)
    {
        await Tools.BuildahAsync("manifest", "rm", name);
        (await Tools.BuildahAsync("manifest", "create", name)).EnsureSuccess();
        foreach (var image in images)
        {
            (await Tools.BuildahAsync("manifest", "add", name, "containers-storage:" + image)).EnsureSuccess();
        }

        (await Tools.BuildahAsync("manifest", "push", "--all", "--tls-verify=false", name, "docker://" + destination)).EnsureSuccess();
    }

    private static async Task<string> BuildAsync(string name, string arch, Action<string> populate)
    {
        if ((await Tools.BuildahAsync("inspect", "--type", "image", name)).ExitCode == 0)
        {
            return name;
        }

        var context = Path.Combine(Root, name.Replace('/', '_').Replace(':', '_'));
        if (Directory.Exists(context))
        {
            Directory.Delete(context, recursive: true);
        }

        Directory.CreateDirectory(context);
        populate(context);
        var container = (await Tools.BuildahAsync("from", "scratch")).EnsureSuccess().StandardOutput.Trim();
        (await Tools.BuildahAsync("copy", container, context, "/")).EnsureSuccess();
        (await Tools.BuildahAsync("config", "--arch", arch, "--os", "linux", container)).EnsureSuccess();
        (await Tools.BuildahAsync("commit", "--rm", container, name)).EnsureSuccess();
        return name;
    }

    private static string Apk(string name, string version, string origin) =>
        $"C:Q1{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(name))[..20])}\nP:{name}\nV:{version}\nA:x86_64\nS:100000\nI:300000\nT:{name}\nU:https://www.openssl.org/\nL:Apache-2.0\no:{origin}\nm:Ariadne Conill <ariadne@dereferenced.org>\nt:1668000000\n";

    private static void Copy(string source, string context, string path)
    {
        var target = Path.Combine(context, path);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(source, target);
    }

    private static void Write(string context, string path, string text)
    {
        var target = Path.Combine(context, path);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.WriteAllText(target, text);
    }

    private static (string Digest, long Size) WriteBlob(string blobs, byte[] bytes)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.WriteAllBytes(Path.Combine(blobs, hex), bytes);
        return ("sha256:" + hex, bytes.LongLength);
    }
}
