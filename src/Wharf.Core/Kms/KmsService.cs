using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Kms;

/// <summary>
/// The KMS-compatible key service: symmetric keys (<c>SYMMETRIC_DEFAULT</c>, 256-bit AES-GCM) per account and region,
/// their material versions sealed with the master key, aliases, grants, key policies evaluated as KMS evaluates them,
/// and the AWS-managed <c>aws/ecr</c> key made on first use. The API (<c>TrentService</c>) and the registry's data keys
/// both go through it.
/// </summary>
public sealed partial class KmsService(IMetadataStore store, Lazy<SecretBox> masterKeyOnFirstUse, IAccessAuthorizer authorizer, TimeProvider time) : IKmsKeys, IKmsDataKeys
{
    public KmsService(IMetadataStore store, SecretBox masterKey, IAccessAuthorizer authorizer, TimeProvider time)
        : this(store, new Lazy<SecretBox>(masterKey), authorizer, time)
    {
    }

    // Loaded on first use: the data plane's services hold this service, and commands such as `wharf migrate` build
    // them before they copy a source's master key into place.
    private SecretBox MasterKey => masterKeyOnFirstUse.Value;

    /// <summary>KMS's key policy size quota.</summary>
    public const int MaxPolicyBytes = 32 * 1024;

    public const int DefaultPendingWindowDays = 30;
    public const int DefaultRotationPeriodDays = 365;

    /// <summary>The managed alias ECR's repositories use when <c>KMS</c> names no key.</summary>
    public const string EcrAlias = "alias/aws/ecr";

    private const string ReservedAliasPrefix = "alias/aws/";

    // Opened material by key ARN and version. Material never changes once written and goes only with its key (a
    // deleted key is no longer found), so it is opened once per node rather than on every data key.
    private readonly ConcurrentDictionary<(string Arn, int Version), byte[]> opened = new();

    /// <summary>The key ARN of <paramref name="keyId"/> in <paramref name="account"/>/<paramref name="region"/>.</summary>
    public static string KeyArn(string region, AccountId account, string keyId) => $"arn:aws:kms:{region}:{account}:key/{keyId}";

    /// <summary>The default key policy, as KMS writes it: the account's root may do anything, which delegates to IAM.</summary>
    public static string DefaultPolicy(AccountId account) =>
        $$"""
        {
          "Version" : "2012-10-17",
          "Id" : "key-default-1",
          "Statement" : [ {
            "Sid" : "Enable IAM User Permissions",
            "Effect" : "Allow",
            "Principal" : {
              "AWS" : "arn:aws:iam::{{account}}:root"
            },
            "Action" : "kms:*",
            "Resource" : "*"
          } ]
        }
        """;

    /// <summary>The <c>aws/ecr</c> key's policy, as AWS writes it: use only through ECR in the account, metadata to the account.</summary>
    public static string EcrManagedPolicy(AccountId account, string region) =>
        $$"""
        {
          "Version" : "2012-10-17",
          "Id" : "auto-ecr-1",
          "Statement" : [ {
            "Sid" : "Allow access through Amazon ECR for all principals in the account that are authorized to use Amazon ECR",
            "Effect" : "Allow",
            "Principal" : {
              "AWS" : "*"
            },
            "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
            "Resource" : "*",
            "Condition" : {
              "StringEquals" : {
                "kms:CallerAccount" : "{{account}}",
                "kms:ViaService" : "ecr.{{region}}.amazonaws.com"
              }
            }
          }, {
            "Sid" : "Allow direct access to key metadata to the account",
            "Effect" : "Allow",
            "Principal" : {
              "AWS" : "arn:aws:iam::{{account}}:root"
            },
            "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
            "Resource" : "*"
          } ]
        }
        """;

    public async Task<KmsKeyInfo?> FindAsync(AccountId account, string region, string? keyIdOrAlias, CancellationToken cancellationToken) =>
        (await TryResolveAsync(account, region, keyIdOrAlias ?? EcrAlias, createManaged: true, cancellationToken))?.Info;

    public async Task<bool> IsAllowedAsync(Caller caller, string keyArn, string action, string? viaService, CancellationToken cancellationToken)
    {
        if (await store.Kms.GetKeyAsync(keyArn, cancellationToken) is not { } key)
        {
            return false;
        }

        try
        {
            await AuthorizeAsync(caller, key, action, viaService, null, cancellationToken);
            return true;
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.Denied)
        {
            return false;
        }
    }

    public async Task<(byte[] Plaintext, byte[] CiphertextBlob)> GenerateDataKeyAsync(string keyArn, string context, CancellationToken cancellationToken)
    {
        var key = Usable(await store.Kms.GetKeyAsync(keyArn, cancellationToken) ?? throw KeyNotFound(keyArn));
        var plaintext = RandomNumberGenerator.GetBytes(32);
        return (plaintext, await SealAsync(key, plaintext, RegistryContext(context), cancellationToken));
    }

    public async Task<byte[]> DecryptAsync(string keyArn, ReadOnlyMemory<byte> ciphertextBlob, string context, CancellationToken cancellationToken)
    {
        if (KmsCiphertext.TryReadHeader(ciphertextBlob.Span) is not { } header)
        {
            throw InvalidCiphertext();
        }

        if (header.KeyArn != keyArn)
        {
            throw new WharfException(WharfErrorCode.KmsIncorrectKey, $"The ciphertext was encrypted under another key than {keyArn}.");
        }

        var key = Usable(await store.Kms.GetKeyAsync(keyArn, cancellationToken) ?? throw KeyNotFound(keyArn));
        return await OpenAsync(key, ciphertextBlob, header, RegistryContext(context), cancellationToken);
    }

    /// <summary>The key a <c>KeyId</c> names (key id, key ARN, alias name or alias ARN), or null; <c>alias/aws/ecr</c> is made on first use.</summary>
    internal async Task<KmsKeyRecord?> TryResolveAsync(AccountId account, string region, string keyIdOrAlias, bool createManaged, CancellationToken cancellationToken)
    {
        if (!TryParseName(account, region, keyIdOrAlias, out var target))
        {
            return null;
        }

        if (target.KeyId is { } keyId)
        {
            return await store.Kms.GetKeyAsync(KeyArn(target.Region, target.Account, keyId), cancellationToken);
        }

        if (await store.Kms.GetAliasAsync(target.Account, target.Region, target.Alias!, cancellationToken) is { } alias)
        {
            return await store.Kms.GetKeyAsync(alias.KeyArn, cancellationToken);
        }

        return createManaged && target.Alias == EcrAlias ? await CreateEcrKeyAsync(target.Account, target.Region, cancellationToken) : null;
    }

    /// <summary>As <see cref="TryResolveAsync"/>, or KMS's <c>NotFoundException</c>.</summary>
    internal async Task<KmsKeyRecord> ResolveAsync(AccountId account, string region, string keyIdOrAlias, CancellationToken cancellationToken, bool createManaged = true) =>
        await TryResolveAsync(account, region, keyIdOrAlias, createManaged, cancellationToken) ?? throw NameNotFound(account, region, keyIdOrAlias);

    private async Task<KmsKeyRecord> CreateEcrKeyAsync(AccountId account, string region, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (key, material) = NewKey(account, region, "Default key that protects my ECR data when no other key is defined", EcrManagedPolicy(account, region), awsManaged: true, [], now);
        if (await store.Kms.CreateKeyAsync(key, material, new KmsAlias(account, region, EcrAlias, key.Arn, now, now), cancellationToken))
        {
            return key;
        }

        // Another request made it first: theirs is the account's key.
        var alias = await store.Kms.GetAliasAsync(account, region, EcrAlias, cancellationToken);
        return alias is not null && await store.Kms.GetKeyAsync(alias.KeyArn, cancellationToken) is { } made
            ? made
            : throw new InvalidOperationException("The aws/ecr key was made by another request but cannot be read.");
    }

    internal (KmsKeyRecord Key, KmsMaterial Material) NewKey(AccountId account, string region, string? description, string policy, bool awsManaged, IReadOnlyList<ResourceTag> tags, DateTimeOffset now)
    {
        var keyId = Guid.NewGuid().ToString();
        var arn = KeyArn(region, account, keyId);
        var key = new KmsKeyRecord(
            arn, keyId, account, region, description, KmsKeyState.Enabled, awsManaged, policy,
            RotationEnabled: awsManaged, DefaultRotationPeriodDays, CurrentVersion: 1, now, DeletionDate: null, tags);
        return (key, NewMaterial(arn, 1, now, onDemand: false));
    }

    internal KmsMaterial NewMaterial(string arn, int version, DateTimeOffset now, bool onDemand)
    {
        var material = RandomNumberGenerator.GetBytes(32);
        try
        {
            return new KmsMaterial(version, MasterKey.Seal(material, MaterialBinding(arn, version)), now, onDemand);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>Encrypts under the key's current material version.</summary>
    internal async Task<byte[]> SealAsync(KmsKeyRecord key, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        var material = await MaterialAsync(key, key.CurrentVersion, cancellationToken) ?? throw KeyNotFound(key.Arn);
        return KmsCiphertext.Seal(material, key.Arn, key.CurrentVersion, plaintext.Span, context);
    }

    /// <summary>Decrypts a blob of the key (any version of its material), or KMS's <c>InvalidCiphertextException</c>.</summary>
    internal async Task<byte[]> OpenAsync(KmsKeyRecord key, ReadOnlyMemory<byte> blob, KmsCiphertext.Header header, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        var material = await MaterialAsync(key, header.MaterialVersion, cancellationToken);
        return material is not null && KmsCiphertext.TryOpen(material, blob.Span, header, context) is { } plaintext ? plaintext : throw InvalidCiphertext();
    }

    private async Task<byte[]?> MaterialAsync(KmsKeyRecord key, int version, CancellationToken cancellationToken)
    {
        if (opened.TryGetValue((key.Arn, version), out var material))
        {
            return material;
        }

        if (version > key.CurrentVersion)
        {
            return null;
        }

        foreach (var stored in await store.Kms.ListMaterialsAsync(key.Arn, cancellationToken))
        {
            try
            {
                opened.TryAdd((key.Arn, stored.Version), MasterKey.Open(stored.SealedMaterial, MaterialBinding(key.Arn, stored.Version)));
            }
            catch (CryptographicException)
            {
                // Sealed under another master key, or altered: this version cannot be used.
            }
        }

        return opened.TryGetValue((key.Arn, version), out material) ? material : null;
    }

    /// <summary>Forgets a deleted key's opened material on this node.</summary>
    internal void Forget(string arn)
    {
        foreach (var entry in opened.Keys.Where(k => k.Arn == arn).ToList())
        {
            if (opened.TryRemove(entry, out var material))
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }
    }

    /// <summary>The key if it can be used for cryptography now, else KMS's error for its state.</summary>
    internal static KmsKeyRecord Usable(KmsKeyRecord key) => key.State switch
    {
        KmsKeyState.Enabled => key,
        KmsKeyState.Disabled => throw new WharfException(WharfErrorCode.KmsDisabled, $"{key.Arn} is disabled."),
        _ => throw PendingDeletion(key),
    };

    internal static WharfException PendingDeletion(KmsKeyRecord key) => new(WharfErrorCode.KmsInvalidState, $"{key.Arn} is pending deletion.");

    internal static WharfException KeyNotFound(string arn) => new(WharfErrorCode.KmsNotFound, $"Key '{arn}' does not exist");

    internal static WharfException InvalidCiphertext() =>
        new(WharfErrorCode.KmsInvalidCiphertext, "The ciphertext is not valid for this key, was altered, or was encrypted under another encryption context.");

    /// <summary>
    /// Authorises <paramref name="action"/> on <paramref name="key"/> as KMS does: its key policy must allow (the default
    /// one delegates to IAM), with the caller's identity policies; a grant of the operation to the caller allows it too.
    /// </summary>
    internal async Task AuthorizeAsync(Caller caller, KmsKeyRecord key, string action, string? viaService, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["kms:CallerAccount"] = [caller.Account.Value],
        };
        if (viaService is not null)
        {
            keys["kms:ViaService"] = [viaService];
        }

        if (context is not null)
        {
            foreach (var (name, value) in context)
            {
                keys["kms:EncryptionContext:" + name] = [value];
            }

            keys["kms:EncryptionContextKeys"] = context.Keys.ToList();
        }

        var grantAllows = !caller.IsAnonymous && await GrantAllowsAsync(caller, key, action, context, cancellationToken);
        await authorizer.AuthorizeAsync(caller, action, key.Arn, new KeyPolicyContext(key.Account, key.Policy, keys, grantAllows), cancellationToken);
    }

    private async Task<bool> GrantAllowsAsync(Caller caller, KmsKeyRecord key, string action, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        var operation = action[KmsActions.Prefix.Length..];
        foreach (var grant in await store.Kms.ListGrantsAsync(key.Arn, cancellationToken))
        {
            if ((grant.GranteePrincipal == caller.PrincipalArn || grant.GranteePrincipal == caller.IdentityArn)
                && grant.Operations.Contains(operation, StringComparer.Ordinal)
                && ContextFits(grant, context))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ContextFits(KmsGrant grant, IReadOnlyDictionary<string, string>? context)
    {
        var given = context ?? new Dictionary<string, string>();
        if (grant.ContextEquals is { } equals && (equals.Count != given.Count || equals.Any(p => !given.TryGetValue(p.Key, out var v) || v != p.Value)))
        {
            return false;
        }

        return grant.ContextSubset is not { } subset || subset.All(p => given.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    private static byte[] MaterialBinding(string arn, int version) => Encoding.UTF8.GetBytes($"kms\n{arn}\n{version}");

    // The registry's own data keys carry its context string as one encryption context pair.
    private static Dictionary<string, string> RegistryContext(string context) => new(StringComparer.Ordinal) { ["wharf:context"] = context };

    private static WharfException NameNotFound(AccountId account, string region, string name) =>
        TryParseName(account, region, name, out var target) && target.Alias is { } alias
            ? new WharfException(WharfErrorCode.KmsNotFound, $"Alias arn:aws:kms:{target.Region}:{target.Account}:{alias} is not found.")
            : TryParseName(account, region, name, out target)
                ? KeyNotFound(KeyArn(target.Region, target.Account, target.KeyId!))
                : new WharfException(WharfErrorCode.KmsNotFound, $"Invalid keyId '{name}'");

    private readonly record struct KeyName(AccountId Account, string Region, string? KeyId, string? Alias);

    // A key id (UUID), a key ARN, an alias name (alias/x) or an alias ARN; an ARN may name another account or region.
    private static bool TryParseName(AccountId account, string region, string name, out KeyName parsed)
    {
        parsed = default;
        if (name.StartsWith("arn:", StringComparison.Ordinal))
        {
            var parts = name.Split(':', 6);
            if (parts.Length != 6 || parts[1] != "aws" || parts[2] != "kms" || parts[3].Length == 0 || !AccountId.TryParse(parts[4], out var owner))
            {
                return false;
            }

            if (parts[5].StartsWith("key/", StringComparison.Ordinal) && Guid.TryParseExact(parts[5][4..], "D", out _))
            {
                parsed = new KeyName(owner, parts[3], parts[5][4..].ToLowerInvariant(), null);
                return true;
            }

            if (parts[5].StartsWith("alias/", StringComparison.Ordinal) && parts[5].Length > 6)
            {
                parsed = new KeyName(owner, parts[3], null, parts[5]);
                return true;
            }

            return false;
        }

        if (name.StartsWith("alias/", StringComparison.Ordinal))
        {
            parsed = new KeyName(account, region, null, name);
            return name.Length > 6;
        }

        if (Guid.TryParseExact(name, "D", out _))
        {
            parsed = new KeyName(account, region, name.ToLowerInvariant(), null);
            return true;
        }

        return false;
    }
}
