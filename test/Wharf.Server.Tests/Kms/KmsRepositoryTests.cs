using System.Net;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Kms;

/// <summary>
/// Repositories encrypted with KMS keys (issue 21, point 3), driven by the AWS CLI, skopeo and /v2 clients against one
/// IAM-mode server: ECR's checks of the key at creation, the key stored and shown as its ARN, <c>aws/ecr</c> created
/// on first use; a disabled key refuses pulls and pushes at once (KmsException, failure code KmsError, OCI DENIED with
/// the KMS error) and enabling it restores them; a reader the key policy does not allow <c>kms:Decrypt</c> is refused;
/// cross-repository mounts only between repositories with the same encryption.
/// </summary>
public sealed class KmsRepositoryTests(KmsRepositoryServer fixture) : IClassFixture<KmsRepositoryServer>
{
    private const string Region = KmsRepositoryServer.Region;
    private const string FullAccess = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess";
    private const string ReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

    private Dictionary<string, string> Root => fixture.Root;

    [Fact]
    public async Task Creation_checks_the_key_as_ecr_does_and_stores_its_arn()
    {
        var arn = await fixture.CreateKeyAsync("alias/create-builds");
        var keyId = arn[(arn.LastIndexOf('/') + 1)..];

        // Any of KMS's names for the key: the repository keeps (and shows) its ARN.
        foreach (var (repository, named) in new[] { ("create/alias", "alias/create-builds"), ("create/id", keyId), ("create/arn", arn), ("create/alias-arn", $"arn:aws:kms:{Region}:{arn.Split(':')[4]}:alias/create-builds") })
        {
            var created = await fixture.JsonAsync(Root, "ecr", "create-repository", "--repository-name", repository, "--encryption-configuration", $"encryptionType=KMS,kmsKey={named}");
            Assert.Equal(arn, created.GetProperty("repository").GetProperty("encryptionConfiguration").GetProperty("kmsKey").GetString());
        }

        Assert.Equal(("KMS", arn), await fixture.EncryptionAsync("create/alias"));

        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "create/dsse", "--encryption-configuration", $"encryptionType=KMS_DSSE,kmsKey=alias/create-builds")).EnsureSuccess();
        Assert.Equal(("KMS_DSSE", arn), await fixture.EncryptionAsync("create/dsse"));

        // No key: the account's AWS managed key, created on first use, shown by its ARN.
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "create/managed", "--encryption-configuration", "encryptionType=KMS")).EnsureSuccess();
        var managed = (await fixture.JsonAsync(Root, "kms", "describe-key", "--key-id", "alias/aws/ecr")).GetProperty("KeyMetadata");
        Assert.Equal("AWS", managed.GetProperty("KeyManager").GetString());
        Assert.Equal(("KMS", managed.GetProperty("Arn").GetString()), await fixture.EncryptionAsync("create/managed"));

        // ECR's refusals: a key that does not exist, a disabled one, one pending deletion, one in another region.
        var missing = await fixture.ErrorAsync(Root, "KmsException", "NotFoundException", "ecr", "create-repository", "--repository-name", "create/missing", "--encryption-configuration", "encryptionType=KMS,kmsKey=alias/no-such-key");
        Assert.Contains("alias/no-such-key", missing, StringComparison.Ordinal);
        var disabled = await fixture.CreateKeyAsync();
        (await fixture.AwsAsync(Root, "kms", "disable-key", "--key-id", disabled)).EnsureSuccess();
        await fixture.ErrorAsync(Root, "KmsException", "DisabledException", "ecr", "create-repository", "--repository-name", "create/disabled", "--encryption-configuration", $"encryptionType=KMS,kmsKey={disabled}");
        var doomed = await fixture.CreateKeyAsync();
        (await fixture.AwsAsync(Root, "kms", "schedule-key-deletion", "--key-id", doomed, "--pending-window-in-days", "7")).EnsureSuccess();
        await fixture.ErrorAsync(Root, "KmsException", "KMSInvalidStateException", "ecr", "create-repository", "--repository-name", "create/doomed", "--encryption-configuration", $"encryptionType=KMS,kmsKey={doomed}");
        var elsewhere = await fixture.CreateKeyAsync(region: "eu-west-1");
        var region = await fixture.ErrorAsync(Root, "InvalidParameterException", null, "ecr", "create-repository", "--repository-name", "create/elsewhere", "--encryption-configuration", $"encryptionType=KMS,kmsKey={elsewhere}");
        Assert.Contains("same region", region, StringComparison.Ordinal);
        await fixture.ErrorAsync(Root, "InvalidParameterException", null, "ecr", "create-repository", "--repository-name", "create/aes", "--encryption-configuration", $"encryptionType=AES256,kmsKey={arn}");
        var names = (await fixture.JsonAsync(Root, "ecr", "describe-repositories")).GetProperty("repositories").EnumerateArray().Select(r => r.GetProperty("repositoryName").GetString()).ToList();
        Assert.Contains("create/id", names);
        Assert.DoesNotContain(names, n => n is "create/missing" or "create/disabled" or "create/doomed" or "create/elsewhere" or "create/aes");

        // A caller ECR may not use the key for: full ECR access, but a customer key's default policy leaves KMS to IAM,
        // which grants this user nothing of KMS. The AWS managed key allows every principal of the account through ECR.
        var (_, builder) = await fixture.UserAsync("create-builder", FullAccess);
        var denied = await fixture.ErrorAsync(builder, "KmsException", "AccessDeniedException", "ecr", "create-repository", "--repository-name", "create/denied", "--encryption-configuration", $"encryptionType=KMS,kmsKey={arn}");
        Assert.Contains("kms:DescribeKey", denied, StringComparison.Ordinal);
        (await fixture.AwsAsync(builder, "ecr", "create-repository", "--repository-name", "create/builder-managed", "--encryption-configuration", "encryptionType=KMS")).EnsureSuccess();
        Assert.Equal(("KMS", managed.GetProperty("Arn").GetString()), await fixture.EncryptionAsync("create/builder-managed"));

        // A creation template's KMS key is checked when the template is applied, and the repository keeps its ARN.
        (await fixture.AwsAsync(Root, "ecr", "create-repository-creation-template", "--prefix", "templated", "--applied-for", "CREATE_ON_PUSH",
            "--encryption-configuration", $"encryptionType=KMS,kmsKey={arn}")).EnsureSuccess();
        using var v2 = await fixture.V2Async(Root);
        await KmsRepositoryServer.PushAsync(v2, "templated/app", "1");
        Assert.Equal(("KMS", arn), await fixture.EncryptionAsync("templated/app"));
        (await fixture.AwsAsync(Root, "ecr", "create-repository-creation-template", "--prefix", "templated-off", "--applied-for", "CREATE_ON_PUSH",
            "--encryption-configuration", $"encryptionType=KMS,kmsKey={disabled}")).EnsureSuccess();
        using var refusedPush = await v2.PostAsync("/v2/templated-off/app/blobs/uploads/", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refusedPush.StatusCode);
        await fixture.ErrorAsync(Root, "RepositoryNotFoundException", null, "ecr", "describe-repositories", "--repository-names", "templated-off/app");
    }

    [Fact]
    public async Task Disabling_the_key_stops_pulls_and_pushes_at_once_and_enabling_it_restores_them()
    {
        var arn = await fixture.CreateKeyAsync("alias/pulls");
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "kms/app", "--encryption-configuration", "encryptionType=KMS,kmsKey=alias/pulls")).EnsureSuccess();

        // skopeo pushes and pulls the repository while its key is enabled.
        var host = fixture.Server.HostAndPort;
        var authfile = Path.Combine(fixture.Server.DataDirectory, "kms-auth.json");
        var password = (await fixture.AwsAsync(Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var tools = ContainerTools.Instance;
        var login = await tools.SkopeoAsync("login", "--authfile", authfile, "--tls-verify=false", "--username", "AWS", "--password", password, host);
        login.EnsureSuccess();
        var archive = await TestImages.BusyboxArchiveAsync();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--authfile", authfile, "oci-archive:" + archive, $"docker://{host}/kms/app:1")).EnsureSuccess();
        var pulled = Path.Combine(fixture.Server.DataDirectory, "kms-pulled");
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", "--authfile", authfile, $"docker://{host}/kms/app:1", "dir:" + pulled)).EnsureSuccess();

        using var v2 = await fixture.V2Async(Root);
        var layers = await KmsRepositoryServer.PushAsync(v2, "kms/app", "2");
        var manifest = System.Text.Encoding.UTF8.GetString((await new OciPusher(v2).GetAsync("/v2/kms/app/manifests/2", Oci.Ct))!);
        Assert.Equal(200, (await KmsRepositoryServer.GetAsync(v2, $"/v2/kms/app/blobs/{layers[0]}")).Status);

        // Disabled: the very next pull and push are refused, on /v2 and on the API, with KMS's error named.
        (await fixture.AwsAsync(Root, "kms", "disable-key", "--key-id", arn)).EnsureSuccess();
        Assert.Equal((403, "DENIED", "DisabledException"), await KmsRepositoryServer.GetAsync(v2, "/v2/kms/app/manifests/1"));
        Assert.Equal((403, "DENIED", "DisabledException"), await KmsRepositoryServer.GetAsync(v2, $"/v2/kms/app/blobs/{layers[0]}"));
        using (var push = await v2.PostAsync("/v2/kms/app/blobs/uploads/", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, push.StatusCode);
        }

        var skopeoPull = await tools.SkopeoAsync("copy", "--src-tls-verify=false", "--authfile", authfile, $"docker://{host}/kms/app:1", "dir:" + pulled + "-2");
        Assert.NotEqual(0, skopeoPull.ExitCode);
        var failures = (await fixture.JsonAsync(Root, "ecr", "batch-get-image", "--repository-name", "kms/app", "--image-ids", "imageTag=1", "imageTag=2")).GetProperty("failures");
        Assert.Equal(2, failures.GetArrayLength());
        Assert.All(failures.EnumerateArray(), f => Assert.Equal("KmsError", f.GetProperty("failureCode").GetString()));
        await fixture.ErrorAsync(Root, "KmsException", "DisabledException", "ecr", "get-download-url-for-layer", "--repository-name", "kms/app", "--layer-digest", layers[0]);
        await fixture.ErrorAsync(Root, "KmsException", "DisabledException", "ecr", "initiate-layer-upload", "--repository-name", "kms/app");
        await fixture.ErrorAsync(Root, "KmsException", "DisabledException", "ecr", "put-image", "--repository-name", "kms/app", "--image-tag", "3", "--image-manifest", manifest);

        // Enabled again: everything works at once.
        (await fixture.AwsAsync(Root, "kms", "enable-key", "--key-id", arn)).EnsureSuccess();
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", "--authfile", authfile, $"docker://{host}/kms/app:1", "dir:" + pulled + "-3")).EnsureSuccess();
        Assert.Empty((await fixture.JsonAsync(Root, "ecr", "batch-get-image", "--repository-name", "kms/app", "--image-ids", "imageTag=2")).GetProperty("failures").EnumerateArray());
        (await fixture.AwsAsync(Root, "ecr", "get-download-url-for-layer", "--repository-name", "kms/app", "--layer-digest", layers[0])).EnsureSuccess();

        // Deletion scheduled: refused as KMS refuses a key pending deletion; cancelled and enabled, it works again.
        (await fixture.AwsAsync(Root, "kms", "schedule-key-deletion", "--key-id", arn, "--pending-window-in-days", "7")).EnsureSuccess();
        Assert.Equal((403, "DENIED", "KMSInvalidStateException"), await KmsRepositoryServer.GetAsync(v2, $"/v2/kms/app/blobs/{layers[0]}"));
        await fixture.ErrorAsync(Root, "KmsException", "KMSInvalidStateException", "ecr", "initiate-layer-upload", "--repository-name", "kms/app");
        (await fixture.AwsAsync(Root, "kms", "cancel-key-deletion", "--key-id", arn)).EnsureSuccess();
        (await fixture.AwsAsync(Root, "kms", "enable-key", "--key-id", arn)).EnsureSuccess();
        Assert.Equal(200, (await KmsRepositoryServer.GetAsync(v2, "/v2/kms/app/manifests/2")).Status);

        // Mounts only between repositories of the same encryption: same key → mounted (201); another key or AES256 →
        // an ordinary upload (202), so the target never links a blob it could not read.
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "kms/same", "--encryption-configuration", $"encryptionType=KMS,kmsKey={arn}")).EnsureSuccess();
        var other = await fixture.CreateKeyAsync();
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "kms/other", "--encryption-configuration", $"encryptionType=KMS,kmsKey={other}")).EnsureSuccess();
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "kms/plain")).EnsureSuccess();
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "kms/dsse", "--encryption-configuration", $"encryptionType=KMS_DSSE,kmsKey={arn}")).EnsureSuccess();
        foreach (var (target, expected) in new[] { ("kms/same", HttpStatusCode.Created), ("kms/other", HttpStatusCode.Accepted), ("kms/plain", HttpStatusCode.Accepted), ("kms/dsse", HttpStatusCode.Accepted) })
        {
            using var mount = await v2.PostAsync($"/v2/{target}/blobs/uploads/?mount={layers[1]}&from=kms/app", null, Oci.Ct);
            Assert.True(expected == mount.StatusCode, $"mount into {target}: {(int)mount.StatusCode}");
            Assert.Equal(expected == HttpStatusCode.Created ? 200 : 404, (await KmsRepositoryServer.GetAsync(v2, $"/v2/{target}/blobs/{layers[1]}")).Status);
        }
    }

    [Fact]
    public async Task A_reader_without_kms_decrypt_is_refused_when_the_key_policy_demands_it()
    {
        var (allowedArn, allowed) = await fixture.UserAsync("strict-allowed", ReadOnly);
        var (_, reader) = await fixture.UserAsync("strict-reader", ReadOnly);

        // The reader's IAM policies grant nothing of KMS, so only the key policy's statement for one of them lets ECR decrypt for it.
        var account = (await fixture.JsonAsync(Root, "sts", "get-caller-identity")).GetProperty("Account").GetString();
        var policy = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::ACCOUNT:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"Readers","Effect":"Allow","Principal":{"AWS":"READER"},"Action":"kms:Decrypt","Resource":"*",
               "Condition":{"StringEquals":{"kms:ViaService":"ecr.REGION.amazonaws.com"}}}]}
            """.Replace("ACCOUNT", account, StringComparison.Ordinal).Replace("READER", allowedArn, StringComparison.Ordinal).Replace("REGION", Region, StringComparison.Ordinal);
        var arn = await fixture.CreateKeyAsync(policy: policy);
        (await fixture.AwsAsync(Root, "ecr", "create-repository", "--repository-name", "strict/app", "--encryption-configuration", $"encryptionType=KMS,kmsKey={arn}")).EnsureSuccess();
        using (var rootV2 = await fixture.V2Async(Root))
        {
            await KmsRepositoryServer.PushAsync(rootV2, "strict/app", "1");
        }

        using var readerV2 = await fixture.V2Async(reader);
        Assert.Equal((403, "DENIED", "AccessDeniedException"), await KmsRepositoryServer.GetAsync(readerV2, "/v2/strict/app/manifests/1"));
        var failure = (await fixture.JsonAsync(reader, "ecr", "batch-get-image", "--repository-name", "strict/app", "--image-ids", "imageTag=1")).GetProperty("failures")[0];
        Assert.Equal("KmsError", failure.GetProperty("failureCode").GetString());
        Assert.Contains("kms:Decrypt", failure.GetProperty("failureReason").GetString(), StringComparison.Ordinal);

        using var allowedV2 = await fixture.V2Async(allowed);
        Assert.Equal(200, (await KmsRepositoryServer.GetAsync(allowedV2, "/v2/strict/app/manifests/1")).Status);
        Assert.Empty((await fixture.JsonAsync(allowed, "ecr", "batch-get-image", "--repository-name", "strict/app", "--image-ids", "imageTag=1")).GetProperty("failures").EnumerateArray());
    }
}
