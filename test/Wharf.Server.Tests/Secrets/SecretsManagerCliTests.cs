using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using static Wharf.Server.Tests.Secrets.SecretsCli;

namespace Wharf.Server.Tests.Secrets;

/// <summary>The Secrets Manager-compatible API driven by the real AWS CLI (<c>aws secretsmanager … --endpoint-url</c>).</summary>
public sealed class SecretsManagerCliTests
{
    [Fact]
    public async Task Create_get_and_put_move_the_stages_as_Secrets_Manager_does()
    {
        await using var server = await WharfTestServer.StartAsync();
        var created = await JsonAsync(RunAsync(server, "create-secret", "--name", "ecr-pullthroughcache/docker-hub", "--secret-string", """{"username":"u","accessToken":"t1"}""", "--description", "hub"));
        var arn = created.GetProperty("ARN").GetString()!;
        Assert.Matches(@"^arn:aws:secretsmanager:us-east-1:\d{12}:secret:ecr-pullthroughcache/docker-hub-[A-Za-z0-9]{6}$", arn);
        Assert.Equal("ecr-pullthroughcache/docker-hub", created.GetProperty("Name").GetString());
        var first = created.GetProperty("VersionId").GetString()!;

        // By name, by full ARN and by partial ARN (without the random suffix).
        foreach (var id in new[] { "ecr-pullthroughcache/docker-hub", arn, arn[..^7] })
        {
            var value = await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", id));
            Assert.Equal("""{"username":"u","accessToken":"t1"}""", value.GetProperty("SecretString").GetString());
            Assert.Equal(first, value.GetProperty("VersionId").GetString());
            Assert.Equal(["AWSCURRENT"], value.GetProperty("VersionStages").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(JsonValueKind.Number, value.GetProperty("CreatedDate").ValueKind);
        }

        var put = await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", arn, "--secret-string", "t2"));
        var second = put.GetProperty("VersionId").GetString()!;
        Assert.NotEqual(first, second);
        Assert.Equal("t2", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", arn))).GetProperty("SecretString").GetString());
        var previous = await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", arn, "--version-stage", "AWSPREVIOUS"));
        Assert.Equal(first, previous.GetProperty("VersionId").GetString());
        Assert.Contains("t1", previous.GetProperty("SecretString").GetString(), StringComparison.Ordinal);

        // A third value: the first version loses AWSPREVIOUS and is no longer listed as staged.
        var third = await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", arn, "--secret-string", "t3", "--version-stages", "AWSCURRENT", "blue"));
        Assert.Equal(["AWSCURRENT", "blue"], third.GetProperty("VersionStages").EnumerateArray().Select(e => e.GetString()));
        var described = await JsonAsync(RunAsync(server, "describe-secret", "--secret-id", arn));
        var stages = described.GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(second).EnumerateArray().Select(e => e.GetString()));
        Assert.False(stages.TryGetProperty(first, out _));
        Assert.Equal("hub", described.GetProperty("Description").GetString());
        Assert.True(described.TryGetProperty("LastAccessedDate", out _));

        // An old version stays readable by id until it is pruned.
        Assert.Contains("t1", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", arn, "--version-id", first))).GetProperty("SecretString").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_tags_and_list_with_filters_sort_and_paging()
    {
        await using var server = await WharfTestServer.StartAsync();
        foreach (var (name, description, team) in new[] { ("prod/db", "Database password", "red"), ("prod/api", "API key", "blue"), ("dev/db", "database, dev", "red") })
        {
            await JsonAsync(RunAsync(server, "create-secret", "--name", name, "--secret-string", "v", "--description", description, "--tags", $"Key=team,Value={team}"));
        }

        var updated = await JsonAsync(RunAsync(server, "update-secret", "--secret-id", "prod/api", "--description", "API token"));
        Assert.False(updated.TryGetProperty("VersionId", out _));
        var withValue = await JsonAsync(RunAsync(server, "update-secret", "--secret-id", "prod/api", "--secret-string", "v2"));
        Assert.Equal("v2", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", "prod/api"))).GetProperty("SecretString").GetString());
        Assert.Equal(withValue.GetProperty("VersionId").GetString(), (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", "prod/api"))).GetProperty("VersionId").GetString());
        await JsonAsync(RunAsync(server, "tag-resource", "--secret-id", "prod/api", "--tags", "Key=tier,Value=gold"));
        await JsonAsync(RunAsync(server, "untag-resource", "--secret-id", "prod/api", "--tag-keys", "team"));
        var tags = (await JsonAsync(RunAsync(server, "describe-secret", "--secret-id", "prod/api"))).GetProperty("Tags");
        Assert.Equal([("tier", "gold")], tags.EnumerateArray().Select(t => (t.GetProperty("Key").GetString(), t.GetProperty("Value").GetString())));

        async Task<string[]> NamesAsync(params string[] args) =>
            (await JsonAsync(RunAsync(server, ["list-secrets", .. args]))).GetProperty("SecretList").EnumerateArray().Select(e => e.GetProperty("Name").GetString()!).ToArray();

        Assert.Equal(["prod/db", "prod/api", "dev/db"], await NamesAsync());
        Assert.Equal(["dev/db", "prod/api", "prod/db"], await NamesAsync("--sort-by", "name"));
        Assert.Equal(["prod/db", "prod/api"], await NamesAsync("--filters", "Key=name,Values=prod/"));
        Assert.Equal(["dev/db"], await NamesAsync("--filters", "Key=name,Values=!prod"));
        Assert.Equal(["prod/db", "dev/db"], await NamesAsync("--filters", "Key=description,Values=DATABASE"));
        Assert.Equal(["prod/db", "dev/db"], await NamesAsync("--filters", "Key=tag-value,Values=red"));
        Assert.Equal(["prod/api"], await NamesAsync("--filters", "Key=tag-key,Values=ti"));
        Assert.Equal(["prod/db"], await NamesAsync("--filters", "Key=name,Values=prod", "Key=tag-value,Values=red"));
        Assert.Equal(["prod/api"], await NamesAsync("--filters", "Key=all,Values=gold"));

        // Paging by hand (the CLI pages through NextToken itself unless told not to).
        var page = await JsonAsync(RunAsync(server, "list-secrets", "--max-results", "2", "--sort-by", "name", "--no-paginate"));
        Assert.Equal(2, page.GetProperty("SecretList").GetArrayLength());
        var token = page.GetProperty("NextToken").GetString()!;
        var rest = await JsonAsync(RunAsync(server, "list-secrets", "--max-results", "2", "--sort-by", "name", "--no-paginate", "--next-token", token));
        Assert.Equal(["prod/db"], rest.GetProperty("SecretList").EnumerateArray().Select(e => e.GetProperty("Name").GetString()));
        Assert.False(rest.TryGetProperty("NextToken", out _));
        await ErrorAsync(RunAsync(server, "list-secrets", "--max-results", "2", "--no-paginate", "--next-token", token), "InvalidNextTokenException");
        Assert.Equal(["prod/db", "prod/api", "dev/db"], await NamesAsync("--page-size", "1"));
        var staged = (await JsonAsync(RunAsync(server, "list-secrets", "--filters", "Key=name,Values=prod/api"))).GetProperty("SecretList")[0].GetProperty("SecretVersionsToStages");
        Assert.Equal(2, staged.EnumerateObject().Count());
    }

    [Fact]
    public async Task Delete_with_a_window_refuses_reads_until_restored_and_force_delete_frees_the_name()
    {
        await using var server = await WharfTestServer.StartAsync();
        var arn = (await JsonAsync(RunAsync(server, "create-secret", "--name", "app/token", "--secret-string", "s3cr3t"))).GetProperty("ARN").GetString()!;
        var deleted = await JsonAsync(RunAsync(server, "delete-secret", "--secret-id", "app/token", "--recovery-window-in-days", "7"));
        Assert.Equal(arn, deleted.GetProperty("ARN").GetString());
        var days = (DateTimeOffset.FromUnixTimeMilliseconds((long)(deleted.GetProperty("DeletionDate").GetDouble() * 1000)) - DateTimeOffset.UtcNow).TotalDays;
        Assert.InRange(days, 6.9, 7.1);

        var marked = await ErrorAsync(RunAsync(server, "get-secret-value", "--secret-id", "app/token"), "InvalidRequestException");
        Assert.Contains("You can't perform this operation on the secret because it was marked for deletion.", marked, StringComparison.Ordinal);
        await ErrorAsync(RunAsync(server, "put-secret-value", "--secret-id", "app/token", "--secret-string", "x"), "InvalidRequestException");
        await ErrorAsync(RunAsync(server, "delete-secret", "--secret-id", "app/token"), "InvalidRequestException");
        var again = await ErrorAsync(RunAsync(server, "create-secret", "--name", "app/token", "--secret-string", "x"), "InvalidRequestException");
        Assert.Contains("already scheduled for deletion", again, StringComparison.Ordinal);
        Assert.True((await JsonAsync(RunAsync(server, "describe-secret", "--secret-id", arn))).TryGetProperty("DeletedDate", out _));
        Assert.Empty((await JsonAsync(RunAsync(server, "list-secrets"))).GetProperty("SecretList").EnumerateArray());
        Assert.Single((await JsonAsync(RunAsync(server, "list-secrets", "--include-planned-deletion"))).GetProperty("SecretList").EnumerateArray());

        await JsonAsync(RunAsync(server, "restore-secret", "--secret-id", "app/token"));
        Assert.Equal("s3cr3t", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", "app/token"))).GetProperty("SecretString").GetString());

        await ErrorAsync(RunAsync(server, "delete-secret", "--secret-id", "app/token", "--recovery-window-in-days", "6"), "InvalidParameterException");
        await ErrorAsync(RunAsync(server, "delete-secret", "--secret-id", "app/token", "--recovery-window-in-days", "31"), "InvalidParameterException");
        await ErrorAsync(RunAsync(server, "delete-secret", "--secret-id", "app/token", "--recovery-window-in-days", "7", "--force-delete-without-recovery"), "InvalidParameterException");
        await JsonAsync(RunAsync(server, "delete-secret", "--secret-id", "app/token", "--force-delete-without-recovery"));
        await ErrorAsync(RunAsync(server, "get-secret-value", "--secret-id", "app/token"), "ResourceNotFoundException");

        // The name is free at once; the new secret is another resource (its ARN differs), so the old full ARN finds nothing.
        var recreated = (await JsonAsync(RunAsync(server, "create-secret", "--name", "app/token", "--secret-string", "new"))).GetProperty("ARN").GetString()!;
        Assert.NotEqual(arn, recreated);
        await ErrorAsync(RunAsync(server, "get-secret-value", "--secret-id", arn), "ResourceNotFoundException");
    }

    [Fact]
    public async Task Errors_are_Secrets_Manager_s_own()
    {
        await using var server = await WharfTestServer.StartAsync();
        await JsonAsync(RunAsync(server, "create-secret", "--name", "ecr-pullthroughcache/quay", "--secret-string", "v"));
        var exists = await ErrorAsync(RunAsync(server, "create-secret", "--name", "ecr-pullthroughcache/quay", "--secret-string", "w"), "ResourceExistsException");
        Assert.Contains("The operation failed because the secret ecr-pullthroughcache/quay already exists.", exists, StringComparison.Ordinal);
        var missing = await ErrorAsync(RunAsync(server, "get-secret-value", "--secret-id", "nope"), "ResourceNotFoundException");
        Assert.Contains("Secrets Manager can't find the specified secret.", missing, StringComparison.Ordinal);
        await ErrorAsync(RunAsync(server, "describe-secret", "--secret-id", "arn:aws:secretsmanager:us-east-1:000000000000:secret:nope-AbCdEf"), "ResourceNotFoundException");
        await ErrorAsync(RunAsync(server, "get-secret-value", "--secret-id", "ecr-pullthroughcache/quay", "--version-stage", "AWSPENDING"), "ResourceNotFoundException");
        await ErrorAsync(RunAsync(server, "create-secret", "--name", "bad name", "--secret-string", "v"), "InvalidParameterException");
        await ErrorAsync(RunAsync(server, "create-secret", "--name", "both", "--secret-string", "v", "--secret-binary", "aGVsbG8="), "InvalidParameterException");
        await ErrorAsync(RunAsync(server, "put-secret-value", "--secret-id", "ecr-pullthroughcache/quay"), "InvalidParameterException");
        var rotate = await ErrorAsync(RunAsync(server, "rotate-secret", "--secret-id", "ecr-pullthroughcache/quay"), "UnsupportedOperationException");
        Assert.Contains("RotateSecret", rotate, StringComparison.Ordinal);

        // The same token and value again is the retry of an applied request; another value under it is refused.
        var token = Guid.NewGuid().ToString();
        var put = await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", "ecr-pullthroughcache/quay", "--secret-string", "w", "--client-request-token", token));
        Assert.Equal(token, put.GetProperty("VersionId").GetString());
        await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", "ecr-pullthroughcache/quay", "--secret-string", "w", "--client-request-token", token));
        await ErrorAsync(RunAsync(server, "put-secret-value", "--secret-id", "ecr-pullthroughcache/quay", "--secret-string", "other", "--client-request-token", token), "ResourceExistsException");

        // A binary value comes back as it went in.
        var bytes = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(bytes, [0, 1, 2, 255], TestContext.Current.CancellationToken);
            await JsonAsync(RunAsync(server, "create-secret", "--name", "bin", "--secret-binary", "fileb://" + bytes));
            Assert.Equal("AAEC/w==", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", "bin"))).GetProperty("SecretBinary").GetString());
        }
        finally
        {
            File.Delete(bytes);
        }
    }

    [Fact]
    public async Task A_value_at_the_model_maximum_is_kept_and_a_larger_one_is_refused_by_the_model()
    {
        await using var server = await WharfTestServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("wharf-secret-");
        try
        {
            var largest = Path.Combine(dir.FullName, "max.txt");
            var tooLarge = Path.Combine(dir.FullName, "over.txt");
            await File.WriteAllTextAsync(largest, new string('a', 65536), TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(tooLarge, new string('a', 65537), TestContext.Current.CancellationToken);
            await JsonAsync(RunAsync(server, "create-secret", "--name", "big", "--secret-string", "file://" + largest));
            Assert.Equal(65536, (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", "big"))).GetProperty("SecretString").GetString()!.Length);
            await ErrorAsync(RunAsync(server, "put-secret-value", "--secret-id", "big", "--secret-string", "file://" + tooLarge), "InvalidParameterException");
            await ErrorAsync(RunAsync(server, "create-secret", "--name", "bigger", "--secret-string", "file://" + tooLarge), "InvalidParameterException");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
