using Wharf.Core.Errors;
using Wharf.Core.Security;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// Opaque <c>nextToken</c>s: the cursor (the last key returned; listings are keyset-paged, so concurrent
/// pushes never shift a page) signed (<see cref="TokenKeyRing"/>, <see cref="TokenPurpose.Page"/>) together
/// with the scope it was issued for — operation, registry, repository and filter. A token altered, or
/// presented for another scope, is rejected.
/// </summary>
internal sealed class PageTokens(TokenKeyRing keys)
{
    public Task<string> SealAsync(string scope, string cursor, CancellationToken cancellationToken) =>
        keys.SealAsync(TokenPurpose.Page, scope, [cursor], cancellationToken);

    /// <summary>The cursor inside <paramref name="token"/>, or <c>InvalidParameterException</c>.</summary>
    public async Task<string> OpenAsync(string scope, string token, CancellationToken cancellationToken) =>
        await keys.OpenAsync(TokenPurpose.Page, token, scope, cancellationToken) is [var cursor]
            ? cursor
            : throw new WharfException(WharfErrorCode.InvalidParameter, "Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token was not issued for this request'");
}
