using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Errors;
using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Jobs;
using Wharf.Server.Kms;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Kms;

/// <summary>
/// The key service as the registry uses it (<see cref="IKmsKeys"/>, <see cref="IKmsDataKeys"/>) on a fake clock: the
/// <c>aws/ecr</c> key made once on first use, data keys bound to their context, a disabled key refused at once, and the
/// deletion job destroying a key's material only when its pending window has passed. And what no SDK sends.
/// </summary>
public sealed class KmsKeyLifecycleTests
{
    private static readonly AccountId Account = AccountId.Parse("123456789012");
    private static readonly RegistryKey Registry = new(Account, "us-east-1");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Data_keys_follow_the_key_state_and_the_deletion_job_destroys_the_material_when_the_window_passes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));
        var keys = server.GetService<IKmsKeys>();
        var dataKeys = server.GetService<IKmsDataKeys>();
        var kms = server.GetService<KmsService>();
        var store = server.GetService<IMetadataStore>();
        var root = Caller.Root(Account);

        // aws/ecr: made on first use (by a null name or its alias), once.
        var managed = await keys.FindAsync(Account, "us-east-1", null, Ct);
        Assert.NotNull(managed);
        Assert.True(managed.AwsManaged);
        Assert.Equal(managed.Arn, (await keys.FindAsync(Account, "us-east-1", "alias/aws/ecr", Ct))!.Arn);
        Assert.Null(await keys.FindAsync(Account, "us-east-1", "alias/none", Ct));
        Assert.NotEqual(managed.Arn, (await keys.FindAsync(Account, "eu-west-1", null, Ct))!.Arn);

        var key = await kms.CreateKeyAsync(root, Registry, "repo key", null, [], Ct);
        Assert.Equal(key.Arn, (await keys.FindAsync(Account, "us-east-1", key.KeyId, Ct))!.Arn);
        Assert.True(await keys.IsAllowedAsync(root, key.Arn, "kms:Decrypt", "ecr.us-east-1.amazonaws.com", Ct));

        var (plaintext, blob) = await dataKeys.GenerateDataKeyAsync(key.Arn, "sha256:abc", Ct);
        Assert.Equal(32, plaintext.Length);
        Assert.Equal(plaintext, await dataKeys.DecryptAsync(key.Arn, blob, "sha256:abc", Ct));
        Assert.Equal(WharfErrorCode.KmsInvalidCiphertext, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.DecryptAsync(key.Arn, blob, "sha256:other", Ct))).Code);
        Assert.Equal(WharfErrorCode.KmsIncorrectKey, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.DecryptAsync(managed.Arn, blob, "sha256:abc", Ct))).Code);
        Assert.Equal(WharfErrorCode.KmsInvalidCiphertext, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.DecryptAsync(key.Arn, blob.AsMemory(0, 30), "sha256:abc", Ct))).Code);

        // The key material is stored sealed: no stored version holds the material a data key decrypts under.
        var stored = Assert.Single(await store.Kms.ListMaterialsAsync(key.Arn, Ct));
        Assert.NotEqual(32, stored.SealedMaterial.Length);

        await kms.SetEnabledAsync(root, Registry, key.KeyId, enabled: false, Ct);
        Assert.Equal(WharfErrorCode.KmsDisabled, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.DecryptAsync(key.Arn, blob, "sha256:abc", Ct))).Code);
        Assert.Equal(WharfErrorCode.KmsDisabled, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.GenerateDataKeyAsync(key.Arn, "x", Ct))).Code);
        await kms.SetEnabledAsync(root, Registry, key.KeyId, enabled: true, Ct);
        Assert.Equal(plaintext, await dataKeys.DecryptAsync(key.Arn, blob, "sha256:abc", Ct));

        // Deletion: refused while pending, destroyed by the job only once the window has passed.
        var scheduled = await kms.ScheduleDeletionAsync(root, Registry, key.KeyId, 7, Ct);
        Assert.Equal(time.GetUtcNow().AddDays(7), scheduled.DeletionDate);
        Assert.Equal(WharfErrorCode.KmsInvalidState, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.DecryptAsync(key.Arn, blob, "sha256:abc", Ct))).Code);
        var job = server.GetService<IEnumerable<IBackgroundJob>>().OfType<KmsKeyJob>().Single();
        var scheduler = server.GetService<JobScheduler>();
        time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await RunAsync(scheduler, job);
        Assert.NotNull(await store.Kms.GetKeyAsync(key.Arn, Ct));
        time.Advance(TimeSpan.FromMinutes(1));
        await RunAsync(scheduler, job);
        Assert.Null(await store.Kms.GetKeyAsync(key.Arn, Ct));
        Assert.Empty(await store.Kms.ListMaterialsAsync(key.Arn, Ct));
        Assert.Equal(WharfErrorCode.KmsNotFound, (await Assert.ThrowsAsync<WharfException>(() => dataKeys.DecryptAsync(key.Arn, blob, "sha256:abc", Ct))).Code);
        Assert.Null(await keys.FindAsync(Account, "us-east-1", key.Arn, Ct));

        // Automatic rotation: a key with rotation enabled gets its next material version when its period has passed.
        var rotating = await kms.CreateKeyAsync(root, Registry, null, null, [], Ct);
        await kms.SetRotationAsync(root, Registry, rotating.KeyId, enabled: true, 90, Ct);
        var (before, beforeBlob) = await dataKeys.GenerateDataKeyAsync(rotating.Arn, "c", Ct);
        time.Advance(TimeSpan.FromDays(90));
        await RunAsync(scheduler, job);
        Assert.Equal(2, (await store.Kms.GetKeyAsync(rotating.Arn, Ct))!.CurrentVersion);
        Assert.Equal(before, await dataKeys.DecryptAsync(rotating.Arn, beforeBlob, "c", Ct));
    }

    // The scheduler's own loop may be running the job as the clock moves (its interval passed too): run it once more after.
    private static async Task RunAsync(JobScheduler scheduler, IBackgroundJob job)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await scheduler.RunOnceAsync(job, Ct))
        {
            Assert.True(DateTime.UtcNow < deadline, "the KMS key job did not get to run");
            await Task.Delay(20, Ct);
        }
    }

    [Fact]
    public async Task Malformed_kms_requests_answer_kms_s_errors_not_500()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();

        async Task<(int Status, string Type)> CallAsync(string operation, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(body, Encoding.UTF8) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
            request.Headers.TryAddWithoutValidation("X-Amz-Target", "TrentService." + operation);
            request.Headers.TryAddWithoutValidation(
                "Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000");
            using var response = await client.SendAsync(request, Ct);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            return ((int)response.StatusCode, json.RootElement.TryGetProperty("__type", out var type) ? type.GetString()! : "(none)");
        }

        Assert.Equal((400, "SerializationException"), await CallAsync("Decrypt", """{"CiphertextBlob":5}"""));
        Assert.Equal((400, "SerializationException"), await CallAsync("Decrypt", """{"CiphertextBlob":"not base64!"}"""));
        Assert.Equal((400, "InvalidCiphertextException"), await CallAsync("Decrypt", """{"CiphertextBlob":"AQEA"}"""));
        Assert.Equal((400, "ValidationException"), await CallAsync("Decrypt", $$"""{"CiphertextBlob":"{{Convert.ToBase64String(new byte[7000])}}"}"""));
        Assert.Equal((400, "ValidationException"), await CallAsync("Encrypt", """{"KeyId":"alias/x","Plaintext":"QQ==","EncryptionContext":{"a":"1","a":"2"}}"""));
        Assert.Equal((400, "NotFoundException"), await CallAsync("DescribeKey", """{"KeyId":"arn:aws:kms:us-east-1:123456789012:key/not-a-uuid"}"""));
        Assert.Equal((400, "NotFoundException"), await CallAsync("DescribeKey", """{"KeyId":"nonsense"}"""));
        Assert.Equal((400, "InvalidMarkerException"), await CallAsync("ListKeys", """{"Marker":"zzz"}"""));
        Assert.Equal((400, "UnsupportedOperationException"), await CallAsync("ImportKeyMaterial", """{"KeyId":"k","ImportToken":"QQ==","EncryptedKeyMaterial":"QQ=="}"""));
        Assert.Equal((400, "UnsupportedOperationException"), await CallAsync("CreateKey", """{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}"""));
        Assert.Equal((400, "ValidationException"), await CallAsync("GenerateDataKey", """{"KeyId":"alias/x","NumberOfBytes":2048}"""));
    }
}
