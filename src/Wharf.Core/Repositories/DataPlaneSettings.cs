namespace Wharf.Core.Repositories;

/// <summary>The settings the data-plane services need (the host maps its options onto this).</summary>
/// <param name="CreateOnPush">Create a repository on its first push even when no <c>CREATE_ON_PUSH</c> creation template matches (with ECR's defaults); off, only a template creates on push, as in ECR.</param>
/// <param name="UploadExpiry">How long an untouched upload session lives.</param>
public sealed record DataPlaneSettings(bool CreateOnPush, TimeSpan UploadExpiry)
{
    /// <summary>ECR's manifest size limit, and the body limit of a manifest PUT.</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    /// <summary>The largest page a listing returns, whatever <c>n</c> asks for.</summary>
    public const int MaxPageSize = 1000;
}
