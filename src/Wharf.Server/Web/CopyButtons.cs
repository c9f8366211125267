namespace Wharf.Server.Web;

/// <summary>
/// The script behind copy buttons (<c>button[data-copy]</c>, hidden in the markup so that a page without
/// script shows the text only), shared by the gallery's and the console's scripts. It is a statement list
/// for the inside of their <c>(function () { … })();</c>; a page has a <c>#copy-status</c> live region, which
/// announces the copied text itself only when it has <c>data-echo</c> (the gallery's commands; never the console's secrets).
/// </summary>
internal static class CopyButtons
{
    public const string Script = """
          // Copy buttons: hidden in the markup, shown here, so a page without script shows the text only.
          var status = document.getElementById("copy-status");
          function fallback(text) {
            var area = document.createElement("textarea");
            area.value = text;
            area.setAttribute("readonly", "");
            area.style.position = "absolute";
            area.style.left = "-9999px";
            document.body.appendChild(area);
            area.select();
            try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
          }
          document.querySelectorAll("button[data-copy]").forEach(function (button) {
            var label = button.textContent;
            button.hidden = false;
            button.addEventListener("click", function () {
              var text = button.getAttribute("data-copy");
              function done() {
                button.textContent = "Copied";
                if (status) { status.textContent = status.hasAttribute("data-echo") ? "Copied: " + text : "Copied to the clipboard"; }
                setTimeout(function () { button.textContent = label; }, 1500);
              }
              if (navigator.clipboard && window.isSecureContext) {
                navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
              } else {
                fallback(text);
                done();
              }
            });
          });
        """;
}
