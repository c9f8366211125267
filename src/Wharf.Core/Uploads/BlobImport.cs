using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Storage;

namespace Wharf.Core.Uploads;

/// <summary>
/// A blob the registry writes into a repository itself (<see cref="UploadService.StartImportAsync"/>): an
/// ordinary upload session with one writer, so hashing, the session row garbage collection looks for, the
/// reservation before the commit, and commit plus link are the upload path's own. Disposing an import that
/// was not committed aborts it.
/// </summary>
internal sealed class BlobImport(UploadService uploads, Repository repository, UploadSession session) : IAsyncDisposable
{
    private UploadSession session = session;
    private bool committed;

    /// <summary>The upload id the bytes are staged under.</summary>
    public string UploadId => session.Id;

    /// <summary>How many bytes are staged.</summary>
    public long Offset => session.Offset;

    /// <summary>The staged chunks, a chain from 0 to <see cref="Offset"/> (for <see cref="IBlobStore.OpenUploadReadAsync(string, IReadOnlyList{UploadChunk}, long, CancellationToken)"/>).</summary>
    public IReadOnlyList<UploadChunk> Chunks { get; private set; } = [];

    /// <summary>Stages <paramref name="body"/> (exactly <paramref name="length"/> bytes when given) after what is staged.</summary>
    public async Task AppendAsync(Stream body, long? length, CancellationToken cancellationToken)
    {
        session = await uploads.AppendImportAsync(repository, session, body, length, cancellationToken);
        Chunks = UploadService.RecordedChain(session);
    }

    /// <summary>
    /// Verifies <paramref name="digest"/> over the staged bytes (then tells <paramref name="verified"/>), then commits
    /// the blob and links it to the repository.
    /// </summary>
    public async Task CommitAsync(Digest digest, Action? verified, CancellationToken cancellationToken)
    {
        await uploads.CommitImportAsync(repository, session, digest, verified, cancellationToken);
        committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (!committed)
        {
            await uploads.AbortImportAsync(session);
        }
    }
}
