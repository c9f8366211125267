using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Kms;

/// <summary>
/// The key service as <c>aws kms … --endpoint-url</c> drives it: keys, aliases, enabling and disabling, data keys,
/// encryption under an encryption context, scheduled deletion, grants, key policies and rotation.
/// </summary>
public sealed class KmsCliTests
{
    public const string Region = "us-east-1";

    [Fact]
    public async Task Aws_cli_manages_keys_aliases_data_keys_grants_policies_and_deletion()
    {
        await using var server = await WharfTestServer.StartAsync();
        Task<ProcessResult> Kms(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, ["kms", .. args]);

        var created = (await JsonAsync(Kms("create-key", "--description", "builds"))).GetProperty("KeyMetadata");
        var keyId = created.GetProperty("KeyId").GetString()!;
        var arn = created.GetProperty("Arn").GetString()!;
        Assert.Equal($"arn:aws:kms:{Region}:123456789012:key/{keyId}", arn);
        Assert.True(Guid.TryParseExact(keyId, "D", out _));
        Assert.Equal("Enabled", created.GetProperty("KeyState").GetString());
        Assert.Equal("SYMMETRIC_DEFAULT", created.GetProperty("KeySpec").GetString());
        Assert.Equal("CUSTOMER", created.GetProperty("KeyManager").GetString());

        Assert.Equal(arn, (await JsonAsync(Kms("describe-key", "--key-id", arn))).GetProperty("KeyMetadata").GetProperty("Arn").GetString());
        Assert.Contains((await JsonAsync(Kms("list-keys"))).GetProperty("Keys").EnumerateArray(), k => k.GetProperty("KeyId").GetString() == keyId);

        (await Kms("create-alias", "--alias-name", "alias/builds", "--target-key-id", keyId)).EnsureSuccess();
        var aliases = (await JsonAsync(Kms("list-aliases", "--key-id", keyId))).GetProperty("Aliases");
        Assert.Equal("alias/builds", Assert.Single(aliases.EnumerateArray()).GetProperty("AliasName").GetString());

        // A data key: its plaintext decrypts from its blob, which names its key (no --key-id needed), under the same context only.
        var dataKey = await JsonAsync(Kms("generate-data-key", "--key-id", "alias/builds", "--key-spec", "AES_256", "--encryption-context", "repo=team/app"));
        var plaintext = Convert.FromBase64String(dataKey.GetProperty("Plaintext").GetString()!);
        Assert.Equal(32, plaintext.Length);
        var blob = Path.Combine(server.DataDirectory, "data-key.bin");
        await File.WriteAllBytesAsync(blob, Convert.FromBase64String(dataKey.GetProperty("CiphertextBlob").GetString()!), TestContext.Current.CancellationToken);
        var decrypted = await JsonAsync(Kms("decrypt", "--ciphertext-blob", "fileb://" + blob, "--encryption-context", "repo=team/app"));
        Assert.Equal(plaintext, Convert.FromBase64String(decrypted.GetProperty("Plaintext").GetString()!));
        Assert.Equal(arn, decrypted.GetProperty("KeyId").GetString());
        await ErrorAsync(Kms("decrypt", "--ciphertext-blob", "fileb://" + blob, "--encryption-context", "repo=team/other"), "InvalidCiphertextException");

        // Encrypt and decrypt; disabled, the key neither encrypts nor decrypts; enabled again, both work.
        var message = Path.Combine(server.DataDirectory, "message.txt");
        await File.WriteAllTextAsync(message, "a secret build argument", TestContext.Current.CancellationToken);
        var encrypted = Path.Combine(server.DataDirectory, "message.enc");
        var ciphertext = (await JsonAsync(Kms("encrypt", "--key-id", keyId, "--plaintext", "fileb://" + message))).GetProperty("CiphertextBlob").GetString()!;
        await File.WriteAllBytesAsync(encrypted, Convert.FromBase64String(ciphertext), TestContext.Current.CancellationToken);
        (await Kms("disable-key", "--key-id", keyId)).EnsureSuccess();
        await ErrorAsync(Kms("decrypt", "--ciphertext-blob", "fileb://" + encrypted), "DisabledException");
        (await Kms("enable-key", "--key-id", keyId)).EnsureSuccess();
        Assert.Equal("a secret build argument", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(
            (await JsonAsync(Kms("decrypt", "--ciphertext-blob", "fileb://" + encrypted))).GetProperty("Plaintext").GetString()!)));

        // Rotation (old material keeps decrypting: KmsAccessTests).
        (await Kms("enable-key-rotation", "--key-id", keyId)).EnsureSuccess();

        // Grants.
        var grant = await JsonAsync(Kms(
            "create-grant", "--key-id", keyId, "--grantee-principal", "arn:aws:iam::123456789012:user/builder", "--operations", "Decrypt", "GenerateDataKey"));
        var grantId = grant.GetProperty("GrantId").GetString()!;
        var grants = (await JsonAsync(Kms("list-grants", "--key-id", keyId))).GetProperty("Grants");
        Assert.Equal(grantId, Assert.Single(grants.EnumerateArray()).GetProperty("GrantId").GetString());
        (await Kms("retire-grant", "--key-id", arn, "--grant-id", grantId)).EnsureSuccess();
        Assert.Empty((await JsonAsync(Kms("list-grants", "--key-id", keyId))).GetProperty("Grants").EnumerateArray());

        // Key policies (malformed ones refused: KmsAccessTests).
        var policy = """{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}""";
        (await Kms("put-key-policy", "--key-id", keyId, "--policy-name", "default", "--policy", policy)).EnsureSuccess();
        Assert.Contains("\"Sid\":\"Root\"", (await JsonAsync(Kms("get-key-policy", "--key-id", keyId, "--policy-name", "default"))).GetProperty("Policy").GetString(), StringComparison.Ordinal);

        // Deletion: 7 to 30 days, cancellable (the key is then disabled).
        var scheduled = await JsonAsync(Kms("schedule-key-deletion", "--key-id", keyId, "--pending-window-in-days", "7"));
        Assert.Equal("PendingDeletion", scheduled.GetProperty("KeyState").GetString());
        await ErrorAsync(Kms("decrypt", "--ciphertext-blob", "fileb://" + encrypted), "KMSInvalidStateException");
        (await Kms("cancel-key-deletion", "--key-id", keyId)).EnsureSuccess();

        (await Kms("delete-alias", "--alias-name", "alias/builds")).EnsureSuccess();
    }

    internal static async Task<JsonElement> JsonAsync(Task<ProcessResult> run)
    {
        var result = (await run).EnsureSuccess();
        using var document = JsonDocument.Parse(result.StandardOutput.Length == 0 ? "{}" : result.StandardOutput);
        return document.RootElement.Clone();
    }

    internal static async Task<string> ErrorAsync(Task<ProcessResult> run, string errorType)
    {
        var result = await run;
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"({errorType})", result.StandardError, StringComparison.Ordinal);
        return result.StandardError;
    }
}
