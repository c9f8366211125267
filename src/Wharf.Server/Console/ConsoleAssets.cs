using System.Security.Cryptography;
using System.Text;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>
/// The console's stylesheet and its one small script, served under <c>/console/-/</c> with their content
/// hash in the name (cached for a year; a new build is a new URL). Pages load nothing else: the CSP
/// allows scripts and styles from the console itself only. Everything works without the script; it adds
/// copy buttons, confirmation prompts and small conveniences.
/// </summary>
internal static class ConsoleAssets
{
    public static readonly byte[] Css = Encoding.UTF8.GetBytes("""
        :root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--accent:#0b57d0;--accent-fg:#fff;--danger:#b42318;--danger-fg:#fff;--ok-bg:#e7f5ec;--ok-line:#2e7d4f;--err-bg:#fdecea;--err-line:#b42318;--warn-bg:#fff4e5;--warn-line:#9a5b00;--focus:#ff9f1a;
          --sev-critical:#7a0916;--sev-high:#b42318;--sev-medium:#9a5b00;--sev-low:#0b57d0;--sev-info:#57606a;color-scheme:light dark}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--panel:#161b22;--line:#30363d;--accent:#4c8dff;--accent-fg:#0d1117;--danger:#ff6b5e;--danger-fg:#0d1117;--ok-bg:#0f2a1b;--ok-line:#3fb970;--err-bg:#3a1410;--err-line:#ff6b5e;--warn-bg:#33240a;--warn-line:#e3a33b;
          --sev-critical:#ff8b8b;--sev-high:#ff6b5e;--sev-medium:#e3a33b;--sev-low:#6ea8ff;--sev-info:#9da7b3}}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%}
        body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
        a{color:var(--accent)}
        a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible,main:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
        .skip{position:absolute;left:-999px;top:0}.skip:focus{left:1rem;background:var(--bg);padding:.5rem;z-index:1}
        .sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        header.top{border-bottom:1px solid var(--line);background:var(--panel)}
        .bar{max-width:80rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
        .brand{font-weight:700;font-size:1.1rem;text-decoration:none;color:var(--fg)}
        nav.sections ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
        nav.sections a{display:block;padding:.3rem .6rem;border-radius:6px;text-decoration:none;color:var(--fg)}
        nav.sections a[aria-current]{background:var(--bg);border:1px solid var(--line);font-weight:600}
        .who{margin-left:auto;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;font-size:.9rem}
        .who .registry{color:var(--muted)}
        .who .principal{font-weight:600}
        main{max-width:80rem;margin:0 auto;padding:1rem}
        main:focus{outline:none}
        footer{max-width:80rem;margin:2rem auto 1rem;padding:1rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line)}
        h1{font-size:1.5rem;margin:.25rem 0 .75rem}
        h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
        h3{font-size:1.05rem;margin:1rem 0 .4rem}
        .muted{color:var(--muted)}
        nav.crumbs ol{list-style:none;margin:0 0 .5rem;padding:0;display:flex;flex-wrap:wrap;gap:.25rem;font-size:.9rem}
        nav.crumbs li+li::before{content:"/";margin-right:.25rem;color:var(--muted)}
        .page-head{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}
        .page-head h1{margin:.25rem 0}
        .actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
        button,.button{font:inherit;cursor:pointer;display:inline-block;padding:.4rem .85rem;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:var(--accent-fg);text-decoration:none;line-height:1.3}
        button.secondary,.button.secondary{background:var(--bg);color:var(--accent)}
        button.danger,.button.danger{background:var(--danger);border-color:var(--danger);color:var(--danger-fg)}
        button.copy{padding:.1rem .5rem;font-size:.8rem;background:var(--bg);color:var(--accent)}
        button[disabled]{opacity:.55;cursor:not-allowed}
        form.inline{display:inline}
        form.stack{display:grid;gap:.9rem;max-width:46rem}
        fieldset{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin:0}
        legend{font-weight:600;padding:0 .3rem}
        label{font-weight:600;display:block;margin-bottom:.2rem}
        label.check{font-weight:400;display:flex;gap:.5rem;align-items:flex-start}
        .hint{color:var(--muted);font-size:.85rem;margin:.15rem 0 0}
        input:not([type]),input[type=text],input[type=password],input[type=search],input[type=number],input[type=email],input[type=url],select,textarea{font:inherit;width:100%;padding:.4rem .55rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
        textarea{font:.85rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;min-height:16rem;resize:vertical;tab-size:2}
        form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.5rem 0 1rem}
        form.filters>div{flex:1 1 12rem;max-width:22rem}
        .alert{border:1px solid;border-left-width:5px;border-radius:6px;padding:.6rem .9rem;margin:.75rem 0}
        .alert p{margin:.15rem 0}
        .alert .headline{font-weight:600}
        .alert.ok{background:var(--ok-bg);border-color:var(--ok-line)}
        .alert.error{background:var(--err-bg);border-color:var(--err-line)}
        .alert.warning{background:var(--warn-bg);border-color:var(--warn-line)}
        .table-wrap{overflow-x:auto}
        table.list{border-collapse:collapse;width:100%;margin:.5rem 0}
        table.list th,table.list td{border-bottom:1px solid var(--line);padding:.45rem .6rem;text-align:left;vertical-align:top}
        table.list th{background:var(--panel);font-weight:600;white-space:nowrap}
        table.list td.num,table.list th.num{text-align:right;font-variant-numeric:tabular-nums}
        table.list tr:hover td{background:color-mix(in srgb,var(--panel) 60%,transparent)}
        .empty{border:1px dashed var(--line);border-radius:8px;padding:1.25rem;text-align:center;color:var(--muted)}
        nav.pages{margin:1rem 0;display:flex;gap:1rem;align-items:center}
        nav.tabs ul{list-style:none;margin:.5rem 0 1rem;padding:0;display:flex;flex-wrap:wrap;gap:.25rem;border-bottom:1px solid var(--line)}
        nav.tabs a{display:block;padding:.4rem .8rem;text-decoration:none;border:1px solid transparent;border-bottom:0;border-radius:6px 6px 0 0;color:var(--fg)}
        nav.tabs a[aria-current]{border-color:var(--line);background:var(--bg);font-weight:600;margin-bottom:-1px}
        dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem;margin:.5rem 0}
        dl.facts dt{color:var(--muted)}
        dl.facts dd{margin:0}
        code,pre,kbd{font:.85em/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;overflow-x:auto;white-space:pre}
        .command{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem;margin:.35rem 0}
        .command code{flex:1 1 20rem;min-width:0;white-space:pre-wrap}
        details.panel{border:1px solid var(--line);border-radius:8px;padding:.5rem .9rem;margin:.75rem 0}
        details.panel>summary{cursor:pointer;font-weight:600}
        .badge{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:4px;border:1px solid var(--line);background:var(--panel);white-space:nowrap}
        .sev{font-weight:600;border-color:currentColor;background:transparent}
        .sev.critical{color:var(--sev-critical)}.sev.high{color:var(--sev-high)}.sev.medium{color:var(--sev-medium)}.sev.low{color:var(--sev-low)}.sev.informational,.sev.undefined{color:var(--sev-info)}
        .tags{display:flex;flex-wrap:wrap;gap:.25rem}
        @media (max-width:44rem){
          body{font-size:15px}
          h1{font-size:1.25rem}
          .bar{padding:.5rem .75rem}
          .who{margin-left:0}
          main{padding:.75rem}
          table.list.cards,table.list.cards tbody,table.list.cards tr,table.list.cards td{display:block;width:100%}
          table.list.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
          table.list.cards tr{border:1px solid var(--line);border-radius:8px;margin:0 0 .6rem;padding:.35rem .6rem}
          table.list.cards td{border:0;padding:.12rem 0;text-align:left}
          table.list.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}
          dl.facts{grid-template-columns:1fr}
          dl.facts dd{margin-bottom:.35rem}
        }
        /* Sign-in (SignIn/): the two ways in, one column, centred. */
        .signin{max-width:26rem;margin:1.5rem auto}
        .signin form.stack{max-width:none}
        .signin-method{border:1px solid var(--line);border-radius:8px;padding:.25rem 1.1rem 1.1rem;margin:1rem 0;background:var(--panel)}
        .signin-method h2{margin-top:.75rem}
        /* Settings area: lists of tags and filters as a row of chips; the smaller exclusion and filter editors. */
        ul.tags{list-style:none;margin:0;padding:0}
        ul.tags li code{border:1px solid var(--line);border-radius:4px;padding:0 .3rem}
        textarea[rows="3"],textarea[rows="4"]{min-height:5rem}
        /* Images: severity counts inline beside a status; history lines wrap */
        .tags.inline{display:inline-flex;vertical-align:middle}
        code.history{white-space:pre-wrap}
        """);

    public static readonly byte[] Js = Encoding.UTF8.GetBytes("\"use strict\";\n(function () {\n" + CopyButtons.Script + "\n" + """
          // Forms that destroy something ask first (the server still requires what the form requires).
          document.querySelectorAll("form[data-confirm]").forEach(function (form) {
            form.addEventListener("submit", function (event) {
              if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
            });
          });
          // "Select all" boxes for lists of checkboxes.
          document.querySelectorAll("input[data-select-all]").forEach(function (all) {
            all.hidden = false;
            var name = all.getAttribute("data-select-all");
            all.addEventListener("change", function () {
              document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) { box.checked = all.checked; });
            });
          });
          // Repositories area: one submit button of a form that has several asks first (the others do not).
          document.querySelectorAll("button[data-confirm]").forEach(function (button) {
            button.addEventListener("click", function (event) {
              if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
            });
          });
        })();
        """);

    public static readonly string CssPath = ConsoleRoutes.AssetPrefix + "console." + Hash(Css) + ".css";

    public static readonly string JsPath = ConsoleRoutes.AssetPrefix + "console." + Hash(Js) + ".js";

    private static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content))[..12];
}
