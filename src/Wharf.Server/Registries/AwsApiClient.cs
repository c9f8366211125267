using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using Wharf.Core.Identity;

namespace Wharf.Server.Registries;

/// <summary>An AWS API error the remote answered: its <c>__type</c> (ECR) or <c>Code</c> (IAM, STS) and message.</summary>
internal sealed class AwsApiException(HttpStatusCode status, string type, string message) : Exception($"{type}: {message}")
{
    public HttpStatusCode Status { get; } = status;

    public string Type { get; } = type;
}

/// <summary>
/// The AWS APIs of a remote Wharf, signed with SigV4 exactly as the AWS CLI signs them, by Core's
/// <see cref="SigV4"/>: ECR's (AWS JSON 1.1) and STS's (the Query protocol, on the same <c>POST /</c>), one POST
/// per operation, a timeout on each, answers read to a bound, the session token sent with temporary credentials.
/// An AWS error comes back as <see cref="AwsApiException"/>; an outage or a broken answer as the caller's failure
/// (<paramref name="failures"/>).
/// </summary>
internal sealed class AwsApiClient(
    HttpClient http,
    Uri endpoint,
    string region,
    Func<CancellationToken, Task<RemoteCredential>> credentials,
    TimeProvider time,
    TimeSpan timeout,
    IRegistryFailures failures)
{
    private const int MaxResponse = 1024 * 1024;
    private static readonly XmlReaderSettings Xml = new() { Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };

    /// <summary>Calls ECR's <paramref name="operation"/>.</summary>
    public async Task<JsonObject> CallAsync(string operation, JsonObject input, CancellationToken cancellationToken)
    {
        var what = $"{operation} on {endpoint.GetLeftPart(UriPartial.Authority)} ({region})";
        return await SendAsync(
            "ecr",
            "application/x-amz-json-1.1",
            JsonSerializer.SerializeToUtf8Bytes(input, Errors.ServerJsonContext.Default.JsonObject),
            "AmazonEC2ContainerRegistry_V20150921." + operation,
            what,
            async (response, body, ct) =>
            {
                JsonNode? parsed;
                try
                {
                    parsed = body is null
                        ? JsonNode.Parse(await RegistryHttp.ReadErrorAsync(response, ct))
                        : await JsonNode.ParseAsync(body, cancellationToken: ct);
                }
                catch (JsonException)
                {
                    throw failures.Broken($"{what} answered {(int)response.StatusCode} with something other than JSON: is the endpoint a Wharf?");
                }

                if (body is null)
                {
                    // "__type" may carry a namespace ("com.amazonaws.ecr#RepositoryNotFoundException"), as AWS's do.
                    var type = (parsed as JsonObject)?["__type"]?.GetValue<string>() ?? response.StatusCode.ToString();
                    throw new AwsApiException(response.StatusCode, type[(type.LastIndexOf('#') + 1)..], (parsed as JsonObject)?["message"]?.GetValue<string>() ?? string.Empty);
                }

                return parsed as JsonObject ?? [];
            },
            cancellationToken);
    }

    /// <summary>Calls <paramref name="action"/> of <paramref name="service"/> (<c>sts</c>, <c>iam</c>) over the Query protocol: its <c>&lt;…Result&gt;</c> element.</summary>
    public async Task<XElement> QueryAsync(string service, string action, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        var what = $"{action} on {endpoint.GetLeftPart(UriPartial.Authority)} ({region})";
        var form = string.Join('&', parameters.Prepend(new("Version", service == "sts" ? "2011-06-15" : "2010-05-08")).Prepend(new("Action", action))
            .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return await SendAsync(
            service,
            "application/x-www-form-urlencoded; charset=utf-8",
            Encoding.UTF8.GetBytes(form),
            null,
            what,
            async (response, body, ct) =>
            {
                XElement root;
                try
                {
                    using var reader = XmlReader.Create(body ?? new MemoryStream(Encoding.UTF8.GetBytes(await RegistryHttp.ReadErrorAsync(response, ct))), Xml);
                    root = (await XDocument.LoadAsync(reader, LoadOptions.None, ct)).Root ?? throw new XmlException("no root");
                }
                catch (XmlException)
                {
                    throw failures.Broken($"{what} answered {(int)response.StatusCode} with something other than XML: is the endpoint a Wharf?");
                }

                if (body is null)
                {
                    var error = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
                    string? Field(string name) => error?.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
                    throw new AwsApiException(response.StatusCode, Field("Code") ?? response.StatusCode.ToString(), Field("Message") ?? string.Empty);
                }

                return root.Elements().FirstOrDefault(e => e.Name.LocalName == action + "Result")
                    ?? throw failures.Broken($"{what} answered without a {action}Result");
            },
            cancellationToken);
    }

    /// <summary>
    /// Signs and sends one POST; <paramref name="read"/> gets the bounded body of a success, or null for an
    /// AWS error (4xx other than 408/429: it reads the error itself, to a bound).
    /// </summary>
    private async Task<T> SendAsync<T>(
        string service,
        string contentType,
        byte[] body,
        string? target,
        string what,
        Func<HttpResponseMessage, Stream?, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken)
    {
        var credential = await credentials(cancellationToken);
        var now = time.GetUtcNow();
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        var headers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = contentType,
            ["host"] = host,
            ["x-amz-date"] = amzDate,
        };
        if (target is not null)
        {
            headers["x-amz-target"] = target;
        }

        if (credential.SessionToken is not null)
        {
            headers["x-amz-security-token"] = credential.SessionToken;
        }

        var path = endpoint.AbsolutePath;
        var claim = new SigV4Claim(credential.Identity, amzDate[..8], region, service, [.. headers.Keys.Order(StringComparer.Ordinal)], string.Empty, now, null, false, null);
        var signature = SigV4.Sign(
            new SigV4Request("POST", path, [], name => headers.GetValueOrDefault(name), SigV4.Hex(SHA256.HashData(body))),
            claim,
            credential.Secret);

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        foreach (var (name, value) in headers)
        {
            if (name == "content-type")
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", value);
            }
            else if (name != "host")
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"{SigV4.Algorithm} Credential={credential.Identity}/{claim.Scope}, SignedHeaders={string.Join(';', claim.SignedHeaders)}, Signature={signature}");

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
            if ((int)response.StatusCode is 408 or 429 or >= 500)
            {
                throw failures.FromStatus(what, response.StatusCode, await RegistryHttp.ReadErrorAsync(response, timer.Token));
            }

            if (!response.IsSuccessStatusCode)
            {
                return await read(response, null, timer.Token);
            }

            await using var answer = await RegistryHttp.ReadBoundedAsync(response, MaxResponse, what, failures, timer.Token);
            return await read(response, answer, timer.Token);
        }
        catch (Exception e) when (failures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }
}
