using System.Text.Json;
using Wharf.Core.Lifecycle;
using Wharf.Core.Primitives;
using Wharf.Core.Security.Policies;

namespace Wharf.Core.Tests.Security;

/// <summary>
/// Policy documents come from clients: whatever JSON they hold, parsing ends in a
/// <see cref="PolicyFormatException"/> (the API's malformed-policy error), never another exception.
/// </summary>
public sealed class PolicyDocumentRobustnessTests
{
    [Theory]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\ud800"},"Action":"ecr:*"}]}""", "not valid Unicode")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","\udfff"]},"Action":"ecr:*"}]}""", "not valid Unicode")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"\ud800":"x"},"Action":"ecr:*"}]}""", "not valid Unicode")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Sid":7,"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}""", "has Sid 7; it must be a string")]
    [InlineData("""{"Version":2012,"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}""", "not '2012'")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":true,"Principal":"*","Action":"ecr:*"}]}""", "Effect 'true'")]
    [InlineData("""{"Version":null,"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}""", "not ''")]
    public void Hostile_json_is_a_policy_format_error(string json, string expected)
    {
        var error = Assert.Throws<PolicyFormatException>(() => PolicyDocument.Parse(json, isResourcePolicy: true));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_statement_without_a_sid_or_with_a_null_one_still_parses()
    {
        var document = PolicyDocument.Parse("""{"Version":"2012-10-17","Statement":[{"Sid":null,"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}""", isResourcePolicy: true);
        Assert.Null(document.Statements[0].Sid);
    }

    [Fact]
    public void A_lone_surrogate_in_a_lifecycle_policy_is_a_lifecycle_policy_error()
    {
        const string Policy = """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["\ud800*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""";
        Assert.Throws<LifecyclePolicyException>(() => LifecyclePolicy.Parse(Policy));
    }

    [Theory]
    [InlineData("""{"a":["b",{"c":"\ud83d\ude00"}]}""", true)]
    [InlineData("""{"a":["b",{"c":"\ud800"}]}""", false)]
    [InlineData("""{"\udc00":1}""", false)]
    [InlineData("""[1,true,null,"\u0000"]""", true)]
    public void Json_strings_are_readable_unless_they_hold_a_lone_surrogate(string json, bool readable)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(readable, JsonStrings.AreReadable(document.RootElement));
    }
}
