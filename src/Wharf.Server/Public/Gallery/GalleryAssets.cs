using System.Security.Cryptography;
using System.Text;
using Wharf.Server.Web;

namespace Wharf.Server.Public.Gallery;

/// <summary>
/// The gallery's stylesheet and its one small script, served under <c>/-/</c> (no alias starts with
/// <c>-</c>) with their content hash in the name, so they are cached for a year and a new build is a new
/// URL. Pages load nothing else: the CSP allows scripts and styles from the gallery itself only.
/// </summary>
internal static class GalleryAssets
{
    public const string Prefix = "/-/";

    public static readonly byte[] Css = Encoding.UTF8.GetBytes("""
        :root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--accent:#0b57d0;--accent-fg:#fff;--badge:#eef3fc;--focus:#ff9f1a;color-scheme:light dark}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--panel:#161b22;--line:#30363d;--accent:#4c8dff;--accent-fg:#0d1117;--badge:#1c2a41}}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%}
        body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
        a{color:var(--accent)}
        a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
        .skip{position:absolute;left:-999px;top:0}.skip:focus{left:1rem;background:var(--bg);padding:.5rem;z-index:1}
        .sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        header.top{border-bottom:1px solid var(--line);background:var(--panel)}
        .bar{max-width:72rem;margin:0 auto;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.75rem;align-items:center}
        .brand{font-weight:700;font-size:1.1rem;text-decoration:none;color:var(--fg);margin-right:auto}
        form.search{display:flex;gap:.5rem;flex:1 1 20rem;max-width:36rem}
        form.search input{flex:1;min-width:0;font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
        button{font:inherit;cursor:pointer;padding:.45rem .9rem;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:var(--accent-fg)}
        button.copy{padding:.2rem .6rem;font-size:.85rem;background:var(--bg);color:var(--accent)}
        main{max-width:72rem;margin:0 auto;padding:1rem}
        footer{max-width:72rem;margin:2rem auto;padding:1rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line)}
        h1{font-size:1.6rem;margin:.5rem 0}
        h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
        .muted{color:var(--muted)}
        .filters{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.5rem 0 1rem}
        .filters a,.filters span.on{display:inline-block;padding:.15rem .6rem;border:1px solid var(--line);border-radius:999px;text-decoration:none;font-size:.85rem}
        .filters span.on{background:var(--accent);color:var(--accent-fg);border-color:var(--accent)}
        ol.results{list-style:none;padding:0;margin:0;display:grid;gap:.75rem}
        .card{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;display:flex;gap:.75rem;align-items:flex-start;background:var(--bg)}
        .card h2,.card h3{margin:0;font-size:1.05rem}
        .card p{margin:.25rem 0}
        img.logo{width:48px;height:48px;object-fit:contain;border-radius:6px;flex:none}
        .repo-head img.logo{width:72px;height:72px}
        .repo-head{display:flex;gap:1rem;align-items:center}
        ul.badges{list-style:none;padding:0;margin:.35rem 0 0;display:flex;flex-wrap:wrap;gap:.3rem}
        ul.badges li{font-size:.75rem;padding:.05rem .5rem;border-radius:4px;background:var(--badge);border:1px solid var(--line)}
        .verified{font-size:.75rem;padding:.05rem .45rem;border-radius:4px;border:1px solid var(--accent);color:var(--accent);margin-left:.35rem;vertical-align:middle}
        .pull{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;margin:.4rem 0}
        .pull code{flex:1 1 16rem;min-width:0}
        code,pre{font:.9em/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        .markdown pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow-x:auto;white-space:pre}
        .markdown :not(pre)>code{background:var(--panel);padding:.1em .3em;border-radius:4px}
        .markdown blockquote{margin:0;padding:0 1rem;border-left:4px solid var(--line);color:var(--muted)}
        .markdown table,table.tags{border-collapse:collapse;width:100%;margin:.5rem 0}
        .markdown th,.markdown td,table.tags th,table.tags td{border:1px solid var(--line);padding:.35rem .6rem;text-align:left;vertical-align:top}
        .markdown{overflow-wrap:anywhere}
        .markdown table{display:block;overflow-x:auto}
        table.tags th{background:var(--panel)}
        table.tags td.digest code{font-size:.8rem}
        nav.pages{margin:1rem 0;display:flex;gap:1rem}
        @media (max-width:40rem){
          h1{font-size:1.3rem}
          .bar{padding:.5rem .75rem}
          main{padding:.75rem}
          table.tags,table.tags tbody,table.tags tr,table.tags td{display:block;width:100%}
          table.tags thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
          table.tags tr{border:1px solid var(--line);border-radius:8px;margin:0 0 .75rem;padding:.4rem .6rem}
          table.tags td{border:0;padding:.15rem 0}
          table.tags td::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}
        }
        """);

    public static readonly byte[] Js = Encoding.UTF8.GetBytes("\"use strict\";\n(function () {\n" + CopyButtons.Script + "\n})();\n");

    public static readonly string CssPath = Prefix + "gallery." + Hash(Css) + ".css";

    public static readonly string JsPath = Prefix + "gallery." + Hash(Js) + ".js";

    private static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content))[..12];
}
