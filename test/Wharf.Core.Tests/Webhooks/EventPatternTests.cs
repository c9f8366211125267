using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wharf.Core.Webhooks;

namespace Wharf.Core.Tests.Webhooks;

/// <summary>EventBridge's matching for the subset webhooks take, the refusals of bad or hostile patterns, and the signature.</summary>
public sealed class EventPatternTests
{
    private const string Push = """
        {"version":"0","id":"e1","detail-type":"ECR Image Action","source":"aws.ecr","account":"123456789012","time":"2025-01-01T00:00:00Z",
         "region":"us-east-1","resources":[],"detail":{"result":"SUCCESS","repository-name":"team/app","image-digest":"sha256:aa",
         "action-type":"PUSH","image-tag":"v1","image-tags":["v1","latest"],"lifecycle-rule-priority":3}}
        """;

    private static bool Matches(string pattern, string evt = Push)
    {
        using var document = JsonDocument.Parse(evt);
        return EventPattern.Parse(pattern).Matches(document.RootElement);
    }

    [Theory]
    [InlineData("""{"source":["aws.ecr"]}""", true)]
    [InlineData("""{"source":["aws.s3"]}""", false)]
    [InlineData("""{"source":["aws.ecr"],"detail-type":["ECR Image Scan","ECR Image Action"]}""", true)]
    [InlineData("""{"account":["123456789012"],"region":["eu-west-1"]}""", false)]
    [InlineData("""{"detail":{"repository-name":[{"prefix":"team/"}],"action-type":["PUSH"]}}""", true)]
    [InlineData("""{"detail":{"repository-name":[{"prefix":"other/"}]}}""", false)]
    [InlineData("""{"detail":{"repository-name":[{"suffix":"/app"}]}}""", true)]
    [InlineData("""{"detail":{"action-type":[{"equals-ignore-case":"push"}]}}""", true)]
    [InlineData("""{"detail":{"action-type":[{"anything-but":"DELETE"}]}}""", true)]
    [InlineData("""{"detail":{"action-type":[{"anything-but":["PUSH","DELETE"]}]}}""", false)]
    [InlineData("""{"detail":{"repository-name":[{"anything-but":{"prefix":"team/"}}]}}""", false)]
    [InlineData("""{"detail":{"image-tags":["latest"]}}""", true)]
    [InlineData("""{"detail":{"image-tags":["stable"]}}""", false)]
    [InlineData("""{"detail":{"lifecycle-rule-priority":[{"exists":true}]}}""", true)]
    [InlineData("""{"detail":{"scan-status":[{"exists":false}]}}""", true)]
    [InlineData("""{"detail":{"scan-status":[{"exists":true}]}}""", false)]
    [InlineData("""{"detail":{"scan-status":["COMPLETE"]}}""", false)]
    [InlineData("""{"detail":{"lifecycle-rule-priority":[{"numeric":[">",1,"<=",3]}]}}""", true)]
    [InlineData("""{"detail":{"lifecycle-rule-priority":[{"numeric":["<",3]}]}}""", false)]
    [InlineData("""{"detail":{"lifecycle-rule-priority":[3]}}""", true)]
    [InlineData("""{"detail":{"lifecycle-rule-priority":["3"]}}""", false)]
    [InlineData("""{"detail":{"nested":{"deeper":[{"exists":false}]}}}""", true)]
    public void Patterns_match_as_EventBridge_matches(string pattern, bool expected) => Assert.Equal(expected, Matches(pattern));

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{}", "must be a JSON object")]
    [InlineData("{\"source\":", "not JSON")]
    [InlineData("""{"source":"aws.ecr"}""", "must be an array")]
    [InlineData("""{"source":[]}""", "empty array")]
    [InlineData("""{"source":[["a"]]}""", "array inside an array")]
    [InlineData("""{"detail":{"repository-name":[{"wildcard":"team/*"}]}}""", "unknown operator \"wildcard\"")]
    [InlineData("""{"detail":{"repository-name":[{"prefix":"a","suffix":"b"}]}}""", "exactly one operator")]
    [InlineData("""{"detail":{"x":[{"prefix":1}]}}""", "takes a string")]
    [InlineData("""{"detail":{"x":[{"exists":"yes"}]}}""", "true or false")]
    [InlineData("""{"detail":{"x":[{"numeric":["~",1]}]}}""", "comparisons")]
    [InlineData("""{"detail":{"x":[{"anything-but":{"wildcard":"a"}}]}}""", "anything-but")]
    public void Bad_patterns_are_refused_with_what_to_fix(string pattern, string message)
    {
        var e = Assert.Throws<EventPatternException>(() => EventPattern.Parse(pattern));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_deep_and_wide_patterns_are_refused_before_any_work()
    {
        var huge = "{\"source\":[\"" + new string('a', EventPattern.MaxLength) + "\"]}";
        Assert.Contains("at most 8192", Assert.Throws<EventPatternException>(() => EventPattern.Parse(huge)).Message, StringComparison.Ordinal);

        // 1000 levels: refused by the parser's depth bound, not by a stack overflow.
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "[1]" + new string('}', 1000);
        Assert.Contains("nests deeper", Assert.Throws<EventPatternException>(() => EventPattern.Parse(deep)).Message, StringComparison.Ordinal);
        var justTooDeep = string.Concat(Enumerable.Repeat("{\"a\":", EventPattern.MaxDepth + 1)) + "[1]" + new string('}', EventPattern.MaxDepth + 1);
        Assert.Contains("nests deeper", Assert.Throws<EventPatternException>(() => EventPattern.Parse(justTooDeep)).Message, StringComparison.Ordinal);
        var deepest = string.Concat(Enumerable.Repeat("{\"a\":", EventPattern.MaxDepth)) + "[1]" + new string('}', EventPattern.MaxDepth);
        EventPattern.Parse(deepest);

        var wide = "{\"source\":[" + string.Join(',', Enumerable.Range(0, EventPattern.MaxValues + 1)) + "]}";
        Assert.Contains("more than 256 values", Assert.Throws<EventPatternException>(() => EventPattern.Parse(wide)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_signature_is_the_hex_HMAC_of_timestamp_dot_body_and_verifies_only_within_the_window()
    {
        var secret = "0123456789abcdef0123456789abcdef"u8.ToArray();
        var body = Encoding.UTF8.GetBytes(Push);
        var signature = WebhookSignature.Sign(secret, 1735689600, body);
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, (byte[])[.. "1735689600."u8, .. body]));
        Assert.Equal(expected, signature);

        var now = DateTimeOffset.FromUnixTimeSeconds(1735689600 + 60);
        Assert.True(WebhookSignature.Verify(secret, "1735689600", body, signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(secret, "1735689600", body, signature, now.AddMinutes(10), TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(secret, "1735689601", body, signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(secret, "1735689600", [.. body, (byte)' '], signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("another secret, just as long"u8, "1735689600", body, signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(secret, "-1", body, signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(secret, "1735689600", body, null, now, TimeSpan.FromMinutes(5)));
    }
}
