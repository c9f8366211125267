// The Kestrel floor of bench/run: what the runtime itself costs, beside nginx and Wharf, on the same clients. No
// routing table beyond three endpoints, no middleware, no logging, no authorisation, no database:
//   GET /v2/                         an empty JSON object (Wharf's GET /v2/ in open mode answers the same);
//   GET|HEAD /small/manifest.json    the small file, from memory (the manifest nginx and Wharf serve);
//   GET /v2/{path}                   a file under --root with ranges, by Results.File (Kestrel's SendFileAsync);
//   GET /zc/chunked/v2/{path}        the same file (one range at most) by sendfile(2) on the socket, framed as one chunk;
//   GET /zc/length/v2/{path}         the same with Content-Length: Kestrel closes the connection after it (ZeroCopy.cs);
//   GET /sealed/v2/{path}            the same file sealed at rest (AES-256-GCM segments), decrypted on the way (Sealed.cs);
//   POST /v2/{repo}/blobs/uploads/   202 with Location /push/sealed/{id} (/push/plain/{id} when the repository's name ends in "plain");
//   PATCH /push/{sealed|plain}/{id}  the body hashed, sealed (or not), appended with O_DIRECT, not flushed: 202 (SealedPush.cs);
//   PUT /push/{sealed|plain}/{id}?digest= the same for its body, then fsynced and checked: 201.
// Usage: wharf-floor --port N --root DIR [--sendfile-port M] [--wharf-transport]   (the /zc/ routes answer on M only)
// --wharf-transport gives Kestrel the transport settings Wharf's host makes (its 64 KiB memory-pool blocks, linked from
// src/Wharf.Server/Hosting/LargeBlockMemoryPool.cs); bench/run starts the push floor with it and with Wharf's thread-pool
// spin limit (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0), so that the push floor receives a body as Wharf does.
using Microsoft.AspNetCore.Http.HttpResults;

var port = int.Parse(Arg("--port"), System.Globalization.CultureInfo.InvariantCulture);
var root = Path.GetFullPath(Arg("--root"));
// The files the floor makes go beside --root, inside bench/run's work directory: bench/run kills the floor and then
// removes that directory, so nothing is left behind (a sealed copy is as large as the blob).
var scratch = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(root.TrimEnd('/'))!, "floor-scratch")).FullName;
Sealed.Directory = SealedPush.Directory = scratch;
var small = await File.ReadAllBytesAsync(Path.Combine(root, "small", "manifest.json"));

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
var sendfilePort = args.Contains("--sendfile-port") ? int.Parse(Arg("--sendfile-port"), System.Globalization.CultureInfo.InvariantCulture) : 0;
builder.WebHost.ConfigureKestrel(k =>
{
    k.ListenLocalhost(port);
    if (sendfilePort != 0)
    {
        // The sendfile prototype's connections only, so that the rows above measure Kestrel as it is.
        k.ListenLocalhost(sendfilePort, listen => listen.Use(next => c => ZeroCopy.Middleware(c, () => next(c))));
    }
});
if (args.Contains("--wharf-transport"))
{
    builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, Wharf.Server.Hosting.LargeBlockMemoryPoolFactory>();
    builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = true);
}

var app = builder.Build();
app.MapGet("/v2/", () => Results.Bytes("{}"u8.ToArray(), "application/json"));
app.MapMethods("/small/manifest.json", ["GET", "HEAD"], () => Results.Bytes(small, "application/vnd.oci.image.manifest.v1+json"));
app.MapGet("/v2/{**path}", Results<PhysicalFileHttpResult, NotFound> (string path) =>
{
    var file = Path.GetFullPath(Path.Combine(root, "v2", path));
    return file.StartsWith(root, StringComparison.Ordinal) && File.Exists(file)
        ? TypedResults.PhysicalFile(file, "application/octet-stream", enableRangeProcessing: true)
        : TypedResults.NotFound();
});
app.MapGet("/sealed/v2/{**path}", async (HttpContext context, string path) =>
{
    var file = Path.GetFullPath(Path.Combine(root, "v2", path));
    if (!file.StartsWith(root, StringComparison.Ordinal) || !File.Exists(file)) { context.Response.StatusCode = 404; return; }
    await Sealed.ServeAsync(context, file);
});
app.MapPost("/v2/{**path}", (HttpContext context, string path) => SealedPush.Begin(context, !path.EndsWith("plain/blobs/uploads/", StringComparison.Ordinal)));
app.MapPatch("/push/{mode}/{id}", (HttpContext context, string id) => SealedPush.PatchAsync(context, id));
app.MapPut("/push/{mode}/{id}", (HttpContext context, string id, string digest) => SealedPush.PutAsync(context, id, digest));
// The prototype: /zc/chunked/v2/... frames the body as one chunk whose bytes go by sendfile; /zc/length/v2/... sets
// Content-Length and sends the bytes by sendfile without Kestrel knowing of them.
app.MapGet("/zc/{mode}/v2/{**path}", async (HttpContext context, string mode, string path) =>
{
    var file = Path.GetFullPath(Path.Combine(root, "v2", path));
    if (!file.StartsWith(root, StringComparison.Ordinal) || !File.Exists(file)) { context.Response.StatusCode = 404; return; }
    await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
    var (offset, count) = (0L, stream.Length);
    if (context.Request.Headers.Range.ToString() is { Length: > 0 } range && range.StartsWith("bytes=", StringComparison.Ordinal))
    {
        var parts = range[6..].Split('-');
        offset = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        var end = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        count = end - offset + 1;
        context.Response.StatusCode = 206;
        context.Response.Headers.ContentRange = $"bytes {offset}-{end}/{stream.Length}";
    }
    context.Response.ContentType = "application/octet-stream";
    if (ZeroCopy.Of(context.Connection.Id) is not { } zc) { context.Response.StatusCode = 404; return; }
    if (mode == "chunked")
    {
        context.Response.Headers.TransferEncoding = "chunked";
        await context.Response.StartAsync();
        await context.Response.Body.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{count:x}\r\n"));
        await context.Response.Body.FlushAsync();
        await zc.SendFileAsync(stream, offset, checked((int)count));
        await context.Response.Body.WriteAsync("\r\n0\r\n\r\n"u8.ToArray());
    }
    else
    {
        context.Response.ContentLength = count;
        await context.Response.StartAsync();
        await context.Response.Body.FlushAsync();
        await zc.SendFileAsync(stream, offset, checked((int)count));
    }
});
await app.RunAsync();

string Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? throw new ArgumentException($"{name} is required");
