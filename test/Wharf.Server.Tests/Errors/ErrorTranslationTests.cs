using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Wharf.Core.Errors;
using Wharf.Core.Storage;
using Wharf.Server.Errors;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Errors;

/// <summary>
/// The one exception translation: each kind of exception is one catalogue row, and the three writers
/// (OCI JSON on /v2, AWS JSON on the ECR API, AWS XML on the IAM and STS Query APIs) each write that
/// row's own columns. The writers run on real HTTP contexts; the end-to-end cases over Kestrel are in
/// <c>Robustness/BadInputTests</c> and <c>Identity/SigV4BindingTests</c>.
/// </summary>
public sealed class ErrorTranslationTests : IDisposable
{
    private static readonly XNamespace Iam = "https://iam.amazonaws.com/doc/2010-05-08/";
    private readonly CapturedLogs logs = new();

    public static TheoryData<WharfErrorCode> ExpectedCodes => [.. Enum.GetValues<WharfErrorCode>().Where(c => c != WharfErrorCode.Internal && !ErrorTranslation.IsKeyServiceError(c))];

    public void Dispose() => logs.Dispose();

    [Theory]
    [MemberData(nameof(ExpectedCodes))]
    public async Task A_wharf_exception_is_its_catalogue_row_on_all_three_wires(WharfErrorCode code)
    {
        var row = ErrorCatalogue.Describe(code);
        var (oci, aws, query) = await AnswerAsync(new WharfException(code, "the thrower's words"));
        Assert.Equal(new Answer(row.OciStatus, row.OciCode, "the thrower's words"), oci);
        Assert.Equal(new Answer(row.AwsStatus, row.AwsType, "the thrower's words"), aws);
        Assert.Equal(new Answer(row.QueryStatus, row.QueryCode, "the thrower's words"), query);
        Assert.Empty(logs.Entries);
    }

    [Fact]
    public async Task A_key_service_error_is_kms_own_on_the_kms_api_and_ecrs_KmsException_elsewhere()
    {
        var disabled = new WharfException(WharfErrorCode.KmsDisabled, "arn:aws:kms:us-east-1:123456789012:key/k is disabled.");
        var (oci, aws, _) = await AnswerAsync(disabled);
        Assert.Equal(new Answer(403, "DENIED", "KMS error (DisabledException): arn:aws:kms:us-east-1:123456789012:key/k is disabled."), oci);
        Assert.Equal(new Answer(400, "KmsException", "KMS error (DisabledException): arn:aws:kms:us-east-1:123456789012:key/k is disabled."), aws);

        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Headers["X-Amz-Target"] = "TrentService.Decrypt";
        var body = new MemoryStream();
        context.Response.Body = body;
        await AwsErrorWriter.HandleAsync(context, disabled, Logger());
        Assert.Equal(new Answer(400, "DisabledException", disabled.Message), ReadAws((context.Response, body.ToArray())));
        Assert.Empty(logs.Entries);
    }

    [Fact]
    public async Task The_same_denial_is_DENIED_on_v2_AccessDeniedException_on_ecr_and_AccessDenied_on_iam()
    {
        var (oci, aws, query) = await AnswerAsync(new WharfException(WharfErrorCode.Denied));
        var message = ErrorCatalogue.Describe(WharfErrorCode.Denied).DefaultMessage;
        Assert.Equal(new Answer(403, "DENIED", message), oci);
        Assert.Equal(new Answer(400, "AccessDeniedException", message), aws);
        Assert.Equal(new Answer(403, "AccessDenied", message), query);
    }

    [Fact]
    public async Task A_body_kestrel_could_not_read_is_one_row_with_its_reason_on_all_three_wires()
    {
        var chunk = new BadHttpRequestException("Bad chunk size data.", StatusCodes.Status400BadRequest);

        // A chunk size past 64 bits: Kestrel throws a bare IOException around the overflow, here wrapped once more.
        var overflow = new InvalidOperationException("outer", new IOException("chunk size overflow", new OverflowException()) { Source = "Microsoft.AspNetCore.Server.Kestrel.Core" });
        foreach (var (exception, reason) in new (Exception, string)[] { (chunk, "Bad chunk size data."), (overflow, "chunk size overflow") })
        {
            var (oci, aws, query) = await AnswerAsync(exception);
            var message = $"The request body could not be read: {reason}";
            Assert.Equal(new Answer(400, "SIZE_INVALID", message), oci);
            Assert.Equal(new Answer(400, "SerializationException", message), aws);
            Assert.Equal(new Answer(400, "ValidationError", message), query);
        }

        // One debug line each, never an error with a stack trace.
        Assert.All(logs.Entries, e => Assert.Equal((LogLevel.Debug, Wharf.Server.Hosting.WharfEventId.BadRequestBody), (e.Level, e.EventId)));
        Assert.Equal(6, logs.Entries.Count);
    }

    [Fact]
    public async Task A_body_over_its_limit_is_413_on_all_three_wires()
    {
        var (oci, aws, query) = await AnswerAsync(new BadHttpRequestException("Request body too large. The max request body size is 4194304 bytes.", StatusCodes.Status413PayloadTooLarge));
        var message = "The request body could not be read: Request body too large. The max request body size is 4194304 bytes.";

        // /v2 limits only manifest bodies, so there it is the manifest's error.
        Assert.Equal(new Answer(413, "MANIFEST_INVALID", message), oci);
        Assert.Equal(new Answer(413, "RequestEntityTooLargeException", message), aws);
        Assert.Equal(new Answer(413, "RequestEntityTooLargeException", message), query);
    }

    [Fact]
    public async Task A_client_that_went_away_gets_nothing_on_any_wire_and_nothing_is_logged()
    {
        foreach (var exception in new Exception[] { new OperationCanceledException(), new TaskCanceledException(), new IOException("reset"), new ConnectionResetException("reset"), new BadHttpRequestException("Unexpected end of request content.") })
        {
            var (oci, aws, query) = await AnswerAsync(exception, aborted: true);
            Assert.Equal((null, null, null), (oci, aws, query));
        }

        Assert.Empty(logs.Entries);
    }

    [Fact]
    public async Task A_fault_is_a_logged_500_on_all_three_wires_that_tells_the_client_nothing_of_it()
    {
        // A JsonException here is a fault too: request bodies are parsed where they are read and their
        // errors are SerializationException there, so one that reaches a writer came from the server's own data.
        var faults = new Exception[]
        {
            new InvalidOperationException("secret state"),
            new WharfException(WharfErrorCode.Internal, "secret state"),
            new JsonException("secret state"),
            new OperationCanceledException("secret state"), // cancelled while the client is still there: a timeout of ours
            new IOException("secret state"),
        };
        foreach (var exception in faults)
        {
            var (oci, aws, query) = await AnswerAsync(exception);
            Assert.Equal(new Answer(500, "UNKNOWN", ErrorTranslation.FaultMessage), oci);
            Assert.Equal(new Answer(500, "ServerException", ErrorTranslation.FaultMessage), aws);
            Assert.Equal(new Answer(500, "ServiceFailure", ErrorTranslation.FaultMessage), query);
        }

        // Each writer logs each fault once, as an error with its exception, under its surface's event.
        var errors = logs.Entries.Where(e => e.Level == LogLevel.Error).ToList();
        Assert.Equal(faults.Length * 3, errors.Count);
        Assert.Equal(
            [Wharf.Server.Hosting.WharfEventId.UnhandledRequestError, Wharf.Server.Hosting.WharfEventId.UnhandledApiError, Wharf.Server.Hosting.WharfEventId.UnhandledQueryError],
            errors.Select(e => e.EventId).Distinct().Order());
        Assert.All(errors, e => Assert.Contains("secret state", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_blob_store_outage_is_the_retryable_Unavailable_on_every_wire_logged_once_without_a_stack()
    {
        var row = ErrorCatalogue.Describe(WharfErrorCode.Unavailable);
        var outage = new BlobStoreUnavailableException("the S3 endpoint did not answer");

        // As the store throws it, and as a stream read inside a copy wraps it.
        foreach (var exception in new Exception[] { outage, new IOException("read failed", outage) })
        {
            var (oci, aws, query) = await AnswerAsync(exception);
            var message = "The blob store is unavailable (the S3 endpoint did not answer); retry later.";
            Assert.Equal(new Answer(503, "UNAVAILABLE", message), oci);
            Assert.Equal(new Answer(row.AwsStatus, "ServerException", message), aws);
            Assert.Equal(new Answer(row.QueryStatus, row.QueryCode, message), query);
        }

        var retryAfter = await WriteAsync(context => OciErrorWriter.HandleAsync(context, outage, Logger()));
        Assert.Equal("1", retryAfter.Response.Headers.RetryAfter);

        // One warning per answer with the reason, never an error, never a stack trace.
        Assert.Equal(7, logs.Entries.Count);
        Assert.All(logs.Entries, e =>
        {
            Assert.Equal((LogLevel.Warning, Wharf.Server.Hosting.WharfEventId.BlobStoreUnavailable), (e.Level, e.EventId));
            Assert.Contains("the S3 endpoint did not answer", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Detail_and_headers_of_the_thrower_reach_the_wires_that_carry_them()
    {
        var error = new WharfException(WharfErrorCode.InvalidLayerPart, "bad part", new JsonObject { ["lastValidByteReceived"] = 41 })
        {
            Headers = new Dictionary<string, string> { ["Range"] = "0-41" },
        };

        var oci = await WriteAsync(context => OciErrorWriter.HandleAsync(context, error, Logger()));
        Assert.Equal("0-41", oci.Response.Headers["Range"]);
        using (var body = JsonDocument.Parse(oci.Body))
        {
            Assert.Equal(41, body.RootElement.GetProperty("errors")[0].GetProperty("detail").GetProperty("lastValidByteReceived").GetInt32());
        }

        var aws = await WriteAsync(context => AwsErrorWriter.HandleAsync(context, error, Logger()));
        using (var body = JsonDocument.Parse(aws.Body))
        {
            Assert.Equal(41, body.RootElement.GetProperty("lastValidByteReceived").GetInt32());
        }
    }

    private ILogger Logger() => logs.CreateLogger("Wharf.Server.Errors");

    private async Task<(Answer? Oci, Answer? Aws, Answer? Query)> AnswerAsync(Exception exception, bool aborted = false)
    {
        var oci = await WriteAsync(context => OciErrorWriter.HandleAsync(context, exception, Logger()), aborted);
        var aws = await WriteAsync(context => AwsErrorWriter.HandleAsync(context, exception, Logger()), aborted);
        var query = await WriteAsync(context => QueryErrorWriter.HandleAsync(context, exception, Iam, "request-1", Logger()), aborted);
        return (ReadOci(oci), ReadAws(aws), ReadQuery(query));
    }

    private static async Task<(HttpResponse Response, byte[] Body)> WriteAsync(Func<HttpContext, Task> write, bool aborted = false)
    {
        using var abort = new CancellationTokenSource();
        if (aborted)
        {
            await abort.CancelAsync();
        }

        var context = new DefaultHttpContext { RequestAborted = abort.Token };
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/";
        var body = new MemoryStream();
        context.Response.Body = body;
        await write(context);
        return (context.Response, body.ToArray());
    }

    private static Answer? ReadOci((HttpResponse Response, byte[] Body) written)
    {
        if (written.Body.Length == 0)
        {
            return null;
        }

        Assert.Equal("application/json", written.Response.ContentType);
        using var document = JsonDocument.Parse(written.Body);
        var error = document.RootElement.GetProperty("errors")[0];
        return new Answer(written.Response.StatusCode, error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!);
    }

    private static Answer? ReadAws((HttpResponse Response, byte[] Body) written)
    {
        if (written.Body.Length == 0)
        {
            return null;
        }

        Assert.Equal("application/x-amz-json-1.1", written.Response.ContentType);
        using var document = JsonDocument.Parse(written.Body);
        return new Answer(written.Response.StatusCode, document.RootElement.GetProperty("__type").GetString()!, document.RootElement.GetProperty("message").GetString()!);
    }

    private static Answer? ReadQuery((HttpResponse Response, byte[] Body) written)
    {
        if (written.Body.Length == 0)
        {
            return null;
        }

        Assert.Equal("text/xml", written.Response.ContentType);
        var root = XDocument.Parse(System.Text.Encoding.UTF8.GetString(written.Body)).Root!;
        Assert.Equal(Iam + "ErrorResponse", root.Name);
        Assert.Equal("request-1", root.Element(Iam + "RequestId")!.Value);
        var error = root.Element(Iam + "Error")!;
        Assert.Equal(written.Response.StatusCode >= 500 ? "Receiver" : "Sender", error.Element(Iam + "Type")!.Value);
        return new Answer(written.Response.StatusCode, error.Element(Iam + "Code")!.Value, error.Element(Iam + "Message")!.Value);
    }

    private sealed record Answer(int Status, string Code, string Message);
}
