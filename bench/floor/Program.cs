// The Kestrel floor of bench/run: what the runtime itself costs, beside nginx and Wharf, on the same clients. No
// routing table beyond three endpoints, no middleware, no logging, no authorisation, no database:
//   GET /v2/                         an empty JSON object (Wharf's GET /v2/ in open mode answers the same);
//   GET|HEAD /small/manifest.json    the small file, from memory (the manifest nginx and Wharf serve);
//   GET /v2/{path}                   a file under --root with ranges, by Results.File (Kestrel's SendFileAsync).
// Usage: wharf-floor --port N --root DIR
using Microsoft.AspNetCore.Http.HttpResults;

var port = int.Parse(Arg("--port"), System.Globalization.CultureInfo.InvariantCulture);
var root = Path.GetFullPath(Arg("--root"));
var small = await File.ReadAllBytesAsync(Path.Combine(root, "small", "manifest.json"));

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port));
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
await app.RunAsync();

string Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? throw new ArgumentException($"{name} is required");
