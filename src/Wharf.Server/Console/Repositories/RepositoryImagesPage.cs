using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>
/// <c>/console/{account}/{region}/repository/{**name}</c>: the repository's header and push commands, and its
/// images newest pushed first (<c>?tagged=any|tagged|untagged</c>, <c>?prefix=</c>, <c>?status=any|active|archived</c>,
/// keyset <c>?after=</c>). Posts (<c>do=</c>): <c>delete</c>, <c>archive</c>, <c>restore</c> the selected images,
/// <c>delete-repository</c> (with <c>force</c> and the name typed again) — each through the service the API uses.
/// </summary>
internal static class RepositoryImagesPage
{
    /// <summary>BatchDeleteImage's limit on images per call; the console's selection is held to it for every action.</summary>
    private const int MaxSelected = 100;

    public static async Task HandleAsync(
        HttpContext context,
        string account,
        string region,
        string name,
        RepositoryService repositories,
        ImageService images,
        LifecycleService lifecycle,
        ConsoleLayout layout,
        RegistryAddress addresses,
        IOptions<WharfOptions> options)
    {
        var user = ConsoleRequest.User(context);
        if (!ConsoleRouteValues.TryRepository(account, region, name, out var key))
        {
            await ConsoleRouteValues.NotFoundAsync(context, user, "repository");
            return;
        }

        var view = new RepositoryImagesView(context, user, key, repositories, images, layout, addresses, options.Value.Console.PageSize);
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await view.WriteAsync(null, StatusCodes.Status200OK);
            return;
        }

        var action = ConsoleForms.Field(context, ConsoleForms.ActionField);
        try
        {
            switch (action)
            {
                case "delete":
                case "archive":
                case "restore":
                    await ChangeImagesAsync(view, action, images, lifecycle);
                    return;
                case "delete-repository":
                    await DeleteRepositoryAsync(view, repositories);
                    return;
                default:
                    await view.WriteAsync(ConsoleErrors.Banner("This form does not do that.", "A repository's page deletes, archives or restores images, or deletes the repository."), StatusCodes.Status400BadRequest);
                    return;
            }
        }
        catch (WharfException e)
        {
            await view.WriteAsync(ConsoleErrors.Banner(e), ConsoleRouteValues.Status(e));
        }
    }

    private static async Task ChangeImagesAsync(RepositoryImagesView view, string action, ImageService images, LifecycleService lifecycle)
    {
        var context = view.Context;
        var posted = ConsoleForms.Form(context)["image"];
        var digests = new List<Digest>();
        foreach (var text in posted)
        {
            if (!Digest.TryParse(text, out var digest))
            {
                await view.WriteAsync(ConsoleErrors.Banner("The selection is not valid.", "A selected image is not a digest. Reload the page and select again."), StatusCodes.Status400BadRequest);
                return;
            }

            digests.Add(digest);
        }

        if (digests.Count == 0 || digests.Count > MaxSelected)
        {
            await view.WriteAsync(ConsoleErrors.Banner("Select the images first.", $"Tick between 1 and {MaxSelected} images in the list, then choose what to do with them."), StatusCodes.Status400BadRequest);
            return;
        }

        var failures = new List<string>();
        var done = 0;
        if (action == "delete")
        {
            var result = await images.BatchDeleteAsync(view.User.Caller, view.Key, [.. digests.Distinct().Select(d => new ImageRef(d.ToString(), null))], context.RequestAborted);
            done = result.Succeeded.Count;
            failures.AddRange(result.Failures.Select(f => $"{f.Id.Digest}: {f.Reason} ({f.Code})"));
        }
        else
        {
            var target = action == "archive" ? StorageClass.Archive : StorageClass.Standard;
            foreach (var digest in digests.Distinct())
            {
                try
                {
                    await lifecycle.UpdateStorageClassAsync(view.User.Caller, view.Key, new ImageRef(digest.ToString(), null), target, context.RequestAborted);
                    done++;
                }
                catch (WharfException e) when (e.Code != WharfErrorCode.Denied && e.Code != WharfErrorCode.NameUnknown)
                {
                    failures.Add($"{digest}: {e.Message}");
                }
            }
        }

        var verb = action switch { "delete" => "deleted", "archive" => "archived", _ => "restored" };
        if (failures.Count > 0)
        {
            await view.WriteAsync(
                ConsoleErrors.Banner($"{done} image{(done == 1 ? string.Empty : "s")} {verb}; {failures.Count} could not be.", string.Join(" · ", failures)),
                done == 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);
            return;
        }

        await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Repository(view.Key, context.Request.QueryString.Value), $"{done} image{(done == 1 ? string.Empty : "s")} {verb}.");
    }

    private static async Task DeleteRepositoryAsync(RepositoryImagesView view, RepositoryService repositories)
    {
        var context = view.Context;
        if (ConsoleForms.Field(context, "confirm")?.Trim() != view.Key.Name.Value)
        {
            await view.WriteAsync(ConsoleErrors.Banner("The repository was not deleted.", $"Type the repository's name, {view.Key.Name.Value}, to confirm."), StatusCodes.Status400BadRequest);
            return;
        }

        var force = ConsoleForms.Field(context, "force") == "on";
        var deleted = await repositories.DeleteAsync(view.User.Caller, view.Key, force, context.RequestAborted);
        await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Repositories(deleted.Key.Registry), $"Repository {deleted.Key.Name} deleted.");
    }
}
