using System.Text.Json;
using Wharf.Server.ControlPlane.Model;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// The validator reads untrusted bodies before anything else does, so no input may make it throw:
/// garbage, lone surrogates, absurd nesting and random JSON all come back as a failure or null.
/// </summary>
public sealed class ModelValidatorRobustnessTests
{
    private static readonly ServiceModel Model = ServiceModel.Ecr;

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"repositoryNames\":{\"a\":1}}")]
    [InlineData("{\"maxResults\":99999999999999999999}")]
    [InlineData("{\"maxResults\":1e400}")]
    [InlineData("{\"maxResults\":true}")]
    [InlineData("{\"repositoryNames\":[null]}")]
    [InlineData("{\"repositoryNames\":[\"\\ud800\"]}")]
    [InlineData("{\"registryId\":\"\\udc00\"}")]
    [InlineData("{\"\\ud800\":1,\"maxResults\":5}")]
    public void Garbage_is_a_failure_never_an_exception(string json) => Assert.NotNull(ModelValidatorTests.Validate("DescribeRepositories", json));

    [Fact]
    public void Lone_surrogate_in_a_tag_key_is_a_type_failure()
    {
        // An escaped lone surrogate parses, but reading it as a .NET string throws: it must come back as a failure.
        var failure = ModelValidatorTests.Validate("TagResource", "{\"resourceArn\":\"arn\",\"tags\":[{\"Key\":\"\\udfff\",\"Value\":\"v\"}]}");
        Assert.Equal(ValidationFailureKind.Type, failure?.Kind);
        Assert.Equal("tags.1.member.Key", failure?.Path);
    }

    [Fact]
    public void Deep_nesting_is_refused_without_overflowing()
    {
        const int Depth = 10_000;
        var nested = new string('[', Depth) + new string(']', Depth);
        var options = new JsonDocumentOptions { MaxDepth = Depth + 10 };
        Assert.True(Model.TryGetOperation("BatchGetImage", out var operation));
        using (var inList = JsonDocument.Parse("{\"repositoryName\":\"ab\",\"imageIds\":[" + nested + "]}", options))
        {
            Assert.Equal("imageIds.1.member", ModelValidator.Validate(Model, operation, inList.RootElement)?.Path);
        }

        using (var atRoot = JsonDocument.Parse(nested, options))
        {
            Assert.NotNull(ModelValidator.Validate(Model, operation, atRoot.RootElement));
        }

        // Unknown members are ignored however deep they go.
        using var unknown = JsonDocument.Parse("{\"repositoryName\":\"ab\",\"imageIds\":[{}],\"extra\":" + nested + "}", options);
        Assert.Null(ModelValidator.Validate(Model, operation, unknown.RootElement));
    }

    [Fact]
    public void Every_operation_survives_random_json_without_throwing()
    {
        var random = new Random(20150921);
        foreach (var name in Model.OperationNames)
        {
            Assert.True(Model.TryGetOperation(name, out var operation));
            for (var i = 0; i < 200; i++)
            {
                using var document = JsonDocument.Parse(RandomInput(random, operation), new JsonDocumentOptions { MaxDepth = 256 });
                var exception = Record.Exception(() => ModelValidator.Validate(Model, operation, document.RootElement));
                Assert.True(exception is null, $"{name}: {exception}");
            }
        }
    }

    /// <summary>An object holding the operation's real member names (so the walk goes deep) with random values.</summary>
    private static string RandomInput(Random random, OperationModel operation)
    {
        var members = operation.InputShape is null ? [] : MemberNames(Model.Shape(operation.InputShape), 0);
        var entries = members.Where(_ => random.Next(3) > 0).Select(m => $"{JsonSerializer.Serialize(m)}:{RandomValue(random, members, 0)}");
        return random.Next(20) == 0 ? RandomValue(random, members, 0) : "{" + string.Join(",", entries) + "}";
    }

    private static List<string> MemberNames(ShapeModel shape, int depth)
    {
        var names = new List<string>();
        foreach (var (name, member) in shape.Members)
        {
            names.Add(name);
            if (depth < 4)
            {
                var inner = Model.Shape(member);
                names.AddRange(MemberNames(inner.Element is null ? inner : Model.Shape(inner.Element), depth + 1));
            }
        }

        return names;
    }

    private static string RandomValue(Random random, List<string> names, int depth)
    {
        string[] scalars = ["null", "true", "false", "0", "-1", "1.5", "1e400", "99999999999999999999", "\"\"", "\"ab\"", "\"Zm9v\"", "\"not base64\"", "\"\\ud800\"", "\"MUTABLE\"", "\"123456789012\""];
        var pick = depth > 5 ? 0 : random.Next(4);
        string Key() => names.Count > 0 && random.Next(4) > 0 ? JsonSerializer.Serialize(names[random.Next(names.Count)]) : random.Next(2) == 0 ? "\"\\udc00\"" : "\"k\"";
        return pick switch
        {
            1 => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, names, depth + 1))) + "]",
            2 => "{" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => $"{Key()}:{RandomValue(random, names, depth + 1)}")) + "}",
            _ => scalars[random.Next(scalars.Length)],
        };
    }
}
