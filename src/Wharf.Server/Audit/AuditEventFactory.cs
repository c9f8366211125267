using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Wharf.Core.Audit;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.DataPlane;
using Wharf.Server.Hosting;

namespace Wharf.Server.Audit;

/// <summary>
/// Turns a queued <see cref="AuditEntry"/> into CloudTrail's record (<c>eventVersion</c> 1.08 fields) and the
/// lookup columns beside it. Runs on the writer, never on a request: the parsing a refused call needs (its
/// route, its credential scope) costs the request nothing.
/// </summary>
internal static class AuditEventFactory
{
    public const string RepositoryType = "AWS::ECR::Repository";
    public const string PublicRepositoryType = "AWS::ECR::PublicRepository";

    private const int MaxMessageChars = 1024;

    public static AuditEvent Create(AuditEntry entry)
    {
        var record = entry.Record;
        var caller = record.Caller;
        var v2 = record.Surface is "v2" or "public";
        var parameters = record.RequestParameters;
        var operation = record.Operation;
        RepositoryKey? repository = record.Repository;
        if (v2 && (operation is null || repository is null))
        {
            // Refused before routing (an anonymous or unsigned write): the route still says what was attempted.
            (operation, var routeName) = RouteOf(entry);
            parameters ??= routeName is null ? null : JsonSerializer.Serialize(new Dictionary<string, string> { ["repositoryName"] = routeName }, Errors.ServerJsonContext.Default.DictionaryStringString);
        }

        var eventSource = record.EventSource
            ?? (v2 ? (record.Surface == "public" ? "ecr-public.amazonaws.com" : "ecr.amazonaws.com") : ScopeService(entry.Authorization) is { } service ? $"{service}.amazonaws.com" : "unknown");
        var eventName = v2 ? DataPlaneEventName(operation, entry.Method) : operation ?? TargetOperation(entry.Target) ?? "Unknown";
        var readOnly = v2 ? HttpMethods.IsGet(entry.Method) || HttpMethods.IsHead(entry.Method) : IsReadOnlyName(eventName);
        var account = caller is { IsAnonymous: false } ? caller.Account.Value : repository?.Registry.Account.Value ?? caller?.Account.Value ?? string.Empty;
        var accessKeyId = caller?.AccessKeyId ?? ClaimedAccessKey(entry.Authorization);
        var username = caller is null || caller.IsAnonymous ? null : UsernameOf(caller);
        var region = record.Region ?? repository?.Registry.Region ?? ScopeRegion(entry.Authorization);
        if (repository is null && parameters is not null && eventSource is "ecr.amazonaws.com" or "ecr-public.amazonaws.com")
        {
            repository = RepositoryFromParameters(parameters, caller, region, eventSource == "ecr-public.amazonaws.com");
        }

        var (resourceType, resourceName, resourceArn) = repository is not null
            ? (repository.Registry.IsPublic ? PublicRepositoryType : RepositoryType, repository.Name.Value, repository.Arn)
            : OtherResource(eventSource, parameters, account);
        var errorCode = record.Error is { } error
            ? record.Surface is "iam" or "sts" ? error.Row.QueryCode : error.Row.AwsType
            : entry.Status >= 400 ? StatusCode(entry.Status) : null;
        var errorMessage = record.Error?.Message ?? (errorCode is null ? null : $"The request ended with HTTP status {entry.Status}.");

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("eventVersion", "1.08");
            WriteIdentity(w, caller, accessKeyId, username);
            w.WriteString("eventTime", record.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteString("eventSource", eventSource);
            w.WriteString("eventName", eventName);
            w.WriteString("awsRegion", region ?? string.Empty);
            w.WriteString("sourceIPAddress", entry.SourceIp ?? string.Empty);
            w.WriteString("userAgent", entry.UserAgent ?? string.Empty);
            if (errorCode is not null)
            {
                w.WriteString("errorCode", errorCode);
                w.WriteString("errorMessage", Cut(errorMessage!, MaxMessageChars));
            }

            w.WritePropertyName("requestParameters");
            if (parameters is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteRawValue(parameters, skipInputValidation: true);
            }

            w.WriteNull("responseElements");
            w.WriteStartObject("additionalEventData");
            w.WriteString("surface", record.Surface);
            w.WriteString("httpMethod", entry.Method);
            w.WriteNumber("httpStatus", entry.Status);
            if (v2)
            {
                w.WriteString("path", entry.Path);
            }

            w.WriteEndObject();
            w.WriteString("requestID", record.RequestId);
            w.WriteString("eventID", EventIdOf(record));
            w.WriteBoolean("readOnly", readOnly);
            if (resourceArn is not null)
            {
                w.WriteStartArray("resources");
                w.WriteStartObject();
                w.WriteString("accountId", account);
                w.WriteString("type", resourceType);
                w.WriteString("ARN", resourceArn);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteString("eventType", "AwsApiCall");
            w.WriteBoolean("managementEvent", !v2);
            w.WriteString("recipientAccountId", account);
            w.WriteString("eventCategory", v2 ? "Data" : "Management");
            w.WriteEndObject();
        }

        return new AuditEvent(
            EventIdOf(record), record.Time, account, eventSource, eventName, readOnly, username, caller is { IsAnonymous: false } ? caller.PrincipalArn : null,
            accessKeyId, resourceType, resourceName, errorCode, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    // The request id is a GUID already, unique per request: the event id is derived from it, so a batch
    // written twice (a retry after a store fault) stores each event once.
    private static string EventIdOf(RequestRecord record) =>
        Guid.TryParse(record.RequestId, out var id) ? new Guid(System.Security.Cryptography.SHA256.HashData(id.ToByteArray()).AsSpan(0, 16)).ToString() : Guid.NewGuid().ToString();

    private static void WriteIdentity(Utf8JsonWriter w, Caller? caller, string? accessKeyId, string? username)
    {
        w.WriteStartObject("userIdentity");
        if (caller is null)
        {
            // Refused before the caller was known (a bad signature, an unknown key): only the key id it claimed.
            w.WriteString("type", "Unknown");
            w.WriteString("principalId", string.Empty);
            if (accessKeyId is not null)
            {
                w.WriteString("accessKeyId", accessKeyId);
            }
        }
        else if (caller.IsAnonymous)
        {
            w.WriteString("type", "Anonymous");
            w.WriteString("principalId", "ANONYMOUS_PRINCIPAL");
        }
        else
        {
            var type = caller.IsRoot ? "Root" : caller.IsRoleSession ? "AssumedRole" : "IAMUser";
            w.WriteString("type", type);
            w.WriteString("principalId", caller.IsRoot ? caller.Account.Value : caller.UserId ?? string.Empty);
            w.WriteString("arn", caller.PrincipalArn);
            w.WriteString("accountId", caller.Account.Value);
            if (accessKeyId is not null)
            {
                w.WriteString("accessKeyId", accessKeyId);
            }

            if (type == "IAMUser")
            {
                w.WriteString("userName", username);
            }
            else if (type == "AssumedRole")
            {
                w.WriteStartObject("sessionContext");
                w.WriteStartObject("sessionIssuer");
                w.WriteString("type", "Role");
                w.WriteString("principalId", caller.UserId?.Split(':')[0] ?? string.Empty);
                w.WriteString("arn", caller.IdentityArn);
                w.WriteString("accountId", caller.Account.Value);
                w.WriteString("userName", caller.IdentityArn[(caller.IdentityArn.LastIndexOf('/') + 1)..]);
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }

        w.WriteEndObject();
    }

    /// <summary>CloudTrail's user name: <c>root</c>, the IAM user's name, or a role session's name.</summary>
    public static string UsernameOf(Caller caller) =>
        caller.IsRoot ? "root" : caller.PrincipalArn[(caller.PrincipalArn.LastIndexOf('/') + 1)..];

    /// <summary>CloudTrail's names for the docker pushes and deletes ECR records; Distribution's for the rest.</summary>
    public static string DataPlaneEventName(string? operation, string method) => operation switch
    {
        DataPlaneOperations.StartUpload => "InitiateLayerUpload",
        DataPlaneOperations.UploadChunk => "UploadLayerPart",
        DataPlaneOperations.CompleteUpload => "CompleteLayerUpload",
        DataPlaneOperations.PutManifest => "PutImage",
        DataPlaneOperations.DeleteManifest => "BatchDeleteImage",
        DataPlaneOperations.GetManifest or DataPlaneOperations.HeadManifest => "BatchGetImage",
        DataPlaneOperations.GetBlob => "GetDownloadUrlForLayer",
        DataPlaneOperations.HeadBlob => "BatchCheckLayerAvailability",
        DataPlaneOperations.ListTags => "ListImages",
        DataPlaneOperations.Catalog => "DescribeRepositories",
        null => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? "Unknown" : $"Unknown{CultureInfo.InvariantCulture.TextInfo.ToTitleCase(method.ToLowerInvariant())}",
        _ => operation,
    };

    public static bool IsReadOnlyName(string name) =>
        name.StartsWith("Get", StringComparison.Ordinal) || name.StartsWith("Describe", StringComparison.Ordinal) || name.StartsWith("List", StringComparison.Ordinal)
        || name.StartsWith("BatchGet", StringComparison.Ordinal) || name.StartsWith("BatchCheck", StringComparison.Ordinal) || name.StartsWith("Lookup", StringComparison.Ordinal);

    private static (string? Operation, string? Repository) RouteOf(AuditEntry entry)
    {
        var path = entry.Path;
        var at = path.IndexOf("/v2/", StringComparison.Ordinal);
        if (at < 0)
        {
            return (entry.Record.Operation, null);
        }

        try
        {
            var route = DataPlaneRoute.Parse(path[(at + 4)..]);
            return (entry.Record.Operation ?? DataPlaneHandler.OperationOf(route.Kind, entry.Method), route.Name?.Value);
        }
        catch (Core.Errors.WharfException)
        {
            return (entry.Record.Operation, null);
        }
    }

    private static RepositoryKey? RepositoryFromParameters(string parameters, Caller? caller, string? region, bool isPublic)
    {
        try
        {
            using var document = JsonDocument.Parse(parameters);
            var root = document.RootElement;
            if (!root.TryGetProperty("repositoryName", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
                || !RepositoryName.TryParse(nameElement.GetString(), out var name))
            {
                return null;
            }

            AccountId account;
            if (root.TryGetProperty("registryId", out var id) && id.ValueKind == JsonValueKind.String && AccountId.TryParse(id.GetString(), out var given))
            {
                account = given;
            }
            else if (caller is { IsAnonymous: false })
            {
                account = caller.Account;
            }
            else
            {
                return null;
            }

            return isPublic ? new RepositoryKey(RegistryKey.Public(account), name)
                : region is null ? null : new RepositoryKey(new RegistryKey(account, region), name);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The resource an IAM or Secrets Manager call names, as CloudTrail's lookups name it.
    private static (string? Type, string? Name, string? Arn) OtherResource(string eventSource, string? parameters, string account)
    {
        if (parameters is null || account.Length == 0)
        {
            return (null, null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(parameters);
            var root = document.RootElement;
            string? Member(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return eventSource switch
            {
                "iam.amazonaws.com" when Member("UserName") is { } user => ("AWS::IAM::User", user, $"arn:aws:iam::{account}:user/{user}"),
                "iam.amazonaws.com" when Member("RoleName") is { } role => ("AWS::IAM::Role", role, $"arn:aws:iam::{account}:role/{role}"),
                "iam.amazonaws.com" when Member("GroupName") is { } group => ("AWS::IAM::Group", group, $"arn:aws:iam::{account}:group/{group}"),
                "secretsmanager.amazonaws.com" when (Member("SecretId") ?? Member("Name")) is { } secret => ("AWS::SecretsManager::Secret", secret, secret.StartsWith("arn:", StringComparison.Ordinal) ? secret : null),
                _ => (null, null, null),
            };
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    // "AWS4-HMAC-SHA256 Credential=AKIA…/20250101/us-east-1/ecr/aws4_request, …": the parts a refused call claimed.
    private static string[]? Scope(string? authorization)
    {
        if (authorization is null)
        {
            return null;
        }

        var at = authorization.IndexOf("Credential=", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var end = authorization.IndexOfAny([',', ' '], at);
        var parts = authorization[(at + "Credential=".Length)..(end < 0 ? authorization.Length : end)].Split('/');
        return parts.Length == 5 && parts.All(p => p.Length is > 0 and <= 128 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) ? parts : null;
    }

    private static string? ClaimedAccessKey(string? authorization) => Scope(authorization)?[0];

    private static string? ScopeRegion(string? authorization) => Scope(authorization)?[2];

    private static string? ScopeService(string? authorization) => Scope(authorization)?[3];

    private static string? TargetOperation(string? target)
    {
        if (target is null)
        {
            return null;
        }

        var name = target[(target.LastIndexOf('.') + 1)..];
        return name.Length is > 0 and <= 128 && name.All(char.IsAsciiLetterOrDigit) ? name : null;
    }

    private static string StatusCode(int status) => status switch
    {
        401 => "UnauthorizedException",
        403 => "AccessDeniedException",
        404 => "NotFoundException",
        429 => "ThrottlingException",
        >= 500 => "InternalFailure",
        _ => "HTTP" + status.ToString(CultureInfo.InvariantCulture),
    };

    private static string Cut(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…(truncated)");
}
