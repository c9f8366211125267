namespace Wharf.Testing;

/// <summary>
/// The real AWS clients installed here: the AWS CLI (v1) and boto3 (driven by small Python scripts,
/// since the NuGet mirror has no AWSSDK.ECR). Credentials are dummies: Wharf's <c>open</c> mode and,
/// later, its IAM mode decide what they are worth.
/// </summary>
public static class AwsClients
{
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// <summary>Runs <c>aws &lt;args&gt; --endpoint-url … --region … --output json</c> with the dummy credentials.</summary>
    public static Task<ProcessResult> CliAsync(Uri endpoint, string region, params string[] args) =>
        CliAsync(endpoint, region, new Dictionary<string, string>(), args);

    /// <summary>The same, with <paramref name="credentials"/> (<c>AWS_ACCESS_KEY_ID</c>, …) replacing the dummies.</summary>
    public static Task<ProcessResult> CliAsync(Uri endpoint, string region, IDictionary<string, string> credentials, params string[] args)
    {
        var aws = Requires.Tool("aws");
        var environment = Environment(region);
        foreach (var (key, value) in credentials)
        {
            environment[key] = value;
        }

        return ProcessRunner.RunAsync(
            aws,
            [.. args, "--endpoint-url", endpoint.ToString().TrimEnd('/'), "--region", region, "--output", "json"],
            TimeSpan.FromMinutes(2),
            environment);
    }

    /// <summary>Runs a Python script with boto3; the script reads <c>WHARF_ENDPOINT</c> and the extra variables given.</summary>
    public static async Task<ProcessResult> Boto3Async(string script, Uri endpoint, string region, IDictionary<string, string>? extra = null)
    {
        var python = Requires.Tool("python3");
        var probe = await ProcessRunner.RunAsync(python, ["-c", "import boto3"], TimeSpan.FromMinutes(1));
        if (probe.ExitCode != 0)
        {
            Requires.Missing("python3 cannot import boto3");
        }

        var environment = Environment(region);
        environment["WHARF_ENDPOINT"] = endpoint.ToString().TrimEnd('/');
        environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return await ProcessRunner.RunAsync(python, [script], TimeSpan.FromMinutes(10), environment, Path.GetDirectoryName(script));
    }

    /// <summary>
    /// The keys of an AWS credentials file (Wharf writes the root key to one on first start), as the
    /// <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c> variables <see cref="CliAsync(Uri, string, IDictionary{string, string}, string[])"/> takes.
    /// </summary>
    public static Dictionary<string, string> ReadCredentialsFile(string path)
    {
        var lines = File.ReadAllLines(path).Select(l => l.Split(" = ", 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return new() { ["AWS_ACCESS_KEY_ID"] = lines["aws_access_key_id"], ["AWS_SECRET_ACCESS_KEY"] = lines["aws_secret_access_key"] };
    }

    private static Dictionary<string, string> Environment(string region) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKeyId,
        ["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey,
        ["AWS_DEFAULT_REGION"] = region,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_CONFIG_FILE"] = "/dev/null",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
        ["AWS_PAGER"] = string.Empty,
    };
}
