using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wharf.Core.Audit;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Server.ControlPlane;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;

namespace Wharf.Server.Audit;

/// <summary>
/// CloudTrail's API over the audit trail (AWS JSON 1.1, <c>X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*</c>,
/// SigV4 service <c>cloudtrail</c>): <c>LookupEvents</c> only, over the caller's own account's records, authorised as
/// <c>cloudtrail:LookupEvents</c>. Every other operation answers <c>UnsupportedOperationException</c>.
/// </summary>
internal sealed class CloudTrailOperations(IMetadataStore store, IAccessAuthorizer authorizer, TokenKeyRing keys, TimeProvider time) : IAwsJsonService
{
    public const string LookupEvents = "LookupEvents";
    public const string Action = "cloudtrail:LookupEvents";
    public const int DefaultMaxResults = 50;

    /// <summary>The longest <c>NextToken</c> read: Wharf's are far shorter.</summary>
    private const int MaxTokenChars = 4096;

    // The keys CloudTrail accepts, by their names in the model's enum.
    private static readonly Dictionary<string, AuditAttribute> Attributes = new(StringComparer.Ordinal)
    {
        ["EventId"] = AuditAttribute.EventId,
        ["EventName"] = AuditAttribute.EventName,
        ["ReadOnly"] = AuditAttribute.ReadOnly,
        ["Username"] = AuditAttribute.Username,
        ["ResourceType"] = AuditAttribute.ResourceType,
        ["ResourceName"] = AuditAttribute.ResourceName,
        ["EventSource"] = AuditAttribute.EventSource,
        ["AccessKeyId"] = AuditAttribute.AccessKeyId,
    };

    public ServiceModel Model => ServiceModel.CloudTrail;

    /// <summary>The operations implemented (docs/operations.md, "Audit trail").</summary>
    public static IReadOnlyCollection<string> Implemented => [LookupEvents];

    public RequestClass Classify(string operation) => RequestClass.Read;

    /// <summary>CloudTrail's own errors for what the model would otherwise refuse as a generic validation error.</summary>
    public void CheckInput(string operation, JsonElement input)
    {
        if (operation != LookupEvents || input.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (input.TryGetProperty("MaxResults", out var max) && max.ValueKind != JsonValueKind.Null
            && (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var n) || n is < 1 or > 50))
        {
            throw new WharfException(WharfErrorCode.CloudTrailInvalidMaxResults, "MaxResults must be a whole number from 1 to 50.");
        }

        if (input.TryGetProperty("LookupAttributes", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            if (list.GetArrayLength() > 1)
            {
                throw new WharfException(WharfErrorCode.CloudTrailInvalidLookupAttributes, "You cannot specify more than one lookup attribute.");
            }

            foreach (var attribute in list.EnumerateArray())
            {
                if (attribute.ValueKind != JsonValueKind.Object)
                {
                    throw new WharfException(WharfErrorCode.CloudTrailInvalidLookupAttributes, "A lookup attribute must be an object with AttributeKey and AttributeValue.");
                }

                var key = attribute.TryGetProperty("AttributeKey", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
                var value = attribute.TryGetProperty("AttributeValue", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                if (key is null || !Attributes.TryGetValue(key, out var parsed))
                {
                    throw new WharfException(
                        WharfErrorCode.CloudTrailInvalidLookupAttributes,
                        $"The lookup attribute key must be one of {string.Join(", ", Attributes.Keys)}.");
                }

                if (string.IsNullOrEmpty(value) || value.Length > 2000)
                {
                    throw new WharfException(WharfErrorCode.CloudTrailInvalidLookupAttributes, "The lookup attribute value must be 1 to 2000 characters long.");
                }

                if (parsed == AuditAttribute.ReadOnly && value is not ("true" or "false"))
                {
                    throw new WharfException(WharfErrorCode.CloudTrailInvalidLookupAttributes, "The ReadOnly lookup attribute's value must be true or false.");
                }
            }
        }
    }

    public Task<JsonObject> InvokeAsync(EcrCall call) =>
        call.Operation == LookupEvents
            ? LookupEventsAsync(call)
            : throw new WharfException(
                WharfErrorCode.UnsupportedOperation,
                $"Wharf does not implement the CloudTrail operation {call.Operation}; only LookupEvents, over the audit trail (docs/operations.md).");

    private async Task<JsonObject> LookupEventsAsync(EcrCall call)
    {
        CheckInput(call.Operation, call.Input);
        await authorizer.AuthorizeAsync(call.Caller, Action, "*", call.Aborted);
        var account = call.Caller.Account.Value;
        var filter = call.Get("LookupAttributes") is { } list && list.GetArrayLength() == 1 ? list[0] : (JsonElement?)null;
        var attribute = filter is { } f ? new AuditFilter(Attributes[f.GetProperty("AttributeKey").GetString()!], f.GetProperty("AttributeValue").GetString()!) : null;
        var givenStart = Time(call, "StartTime");
        var givenEnd = Time(call, "EndTime");
        if (givenStart is { } s && givenEnd is { } e && s > e)
        {
            throw new WharfException(WharfErrorCode.CloudTrailInvalidTimeRange, "Start time must be before or equal to end time.");
        }

        var limit = (int?)call.Long("MaxResults") ?? DefaultMaxResults;

        // A token is bound to the parameters it was issued for (CloudTrail's rule), and carries the range it
        // resolved, so that "until now" means the same instant on every page.
        var binding = string.Join('\n', "cloudtrail:LookupEvents", account, attribute?.Attribute.ToString() ?? string.Empty, attribute?.Value ?? string.Empty,
            givenStart?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? string.Empty,
            givenEnd?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? string.Empty,
            call.String("EventCategory") ?? string.Empty);
        var end = givenEnd ?? time.GetUtcNow();
        var start = givenStart ?? DateTimeOffset.UnixEpoch;
        AuditCursor? after = null;
        if (call.String("NextToken") is { } token)
        {
            (end, start, after) = await OpenAsync(token, binding, call.Aborted);
        }

        var result = new JsonObject();
        var events = new JsonArray();
        result["Events"] = events;
        if (call.String("EventCategory") is "insight")
        {
            return result; // no Insights events: Wharf records management and data calls only
        }

        var page = await store.Audit.LookupAsync(new AuditQuery(account, start, end, attribute is null ? [] : [attribute], limit, after), call.Aborted);
        foreach (var evt in page.Events)
        {
            events.Add((JsonNode)Event(evt));
        }

        if (page.Next is { } next)
        {
            result["NextToken"] = await keys.SealAsync(
                TokenPurpose.Page,
                binding,
                [end.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), start.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                    next.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), next.EventId],
                call.Aborted);
        }

        return result;
    }

    private async Task<(DateTimeOffset End, DateTimeOffset Start, AuditCursor After)> OpenAsync(string token, string binding, CancellationToken cancellationToken)
    {
        if (token.Length <= MaxTokenChars
            && await keys.OpenAsync(TokenPurpose.Page, token, binding, cancellationToken) is [var end, var start, var at, var id]
            && long.TryParse(end, NumberStyles.None, CultureInfo.InvariantCulture, out var endMs)
            && long.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out var startMs)
            && long.TryParse(at, NumberStyles.None, CultureInfo.InvariantCulture, out var atMs))
        {
            return (DateTimeOffset.FromUnixTimeMilliseconds(endMs), DateTimeOffset.FromUnixTimeMilliseconds(startMs), new AuditCursor(DateTimeOffset.FromUnixTimeMilliseconds(atMs), id));
        }

        throw new WharfException(
            WharfErrorCode.CloudTrailInvalidNextToken,
            "The NextToken is not valid, or was issued for a request with other parameters; pass the same parameters as the call that returned it.");
    }

    // The model says Date: epoch seconds as the AWS CLI and boto3 send them. Out of range is CloudTrail's time range error.
    private static DateTimeOffset? Time(EcrCall call, string member)
    {
        if (call.Get(member) is not { } value)
        {
            return null;
        }

        var seconds = value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;
        if (double.IsNaN(seconds) || seconds < 0 || seconds > 253_402_300_799)
        {
            throw new WharfException(WharfErrorCode.CloudTrailInvalidTimeRange, $"{member} must be a time from 1970 to 9999.");
        }

        return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
    }

    private static JsonObject Event(AuditEvent evt)
    {
        var result = new JsonObject
        {
            ["EventId"] = evt.EventId,
            ["EventName"] = evt.EventName,
            ["ReadOnly"] = evt.ReadOnly ? "true" : "false",
        };
        if (evt.AccessKeyId is not null)
        {
            result["AccessKeyId"] = evt.AccessKeyId;
        }

        result["EventTime"] = Json.Time(evt.Time);
        result["EventSource"] = evt.EventSource;
        if (evt.Username is not null)
        {
            result["Username"] = evt.Username;
        }

        result["Resources"] = evt.ResourceName is null
            ? new JsonArray()
            : new JsonArray(new JsonObject { ["ResourceType"] = evt.ResourceType, ["ResourceName"] = evt.ResourceName });
        result["CloudTrailEvent"] = evt.Document;
        return result;
    }
}
