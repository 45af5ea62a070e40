"""Write ``src/kxsj/data/mathjax_tex.json``: what the vendored MathJax's TeX input knows.

The math lint (``kxsj.mathlint``) needs the macros, environments and
``\\require`` names of the exact MathJax the site ships, configured the way
``static/js/mathjax-config.js`` configures it.  This script reads them from
MathJax itself rather than from a hand-typed list: it opens a page with the
vendored ``static/mathjax/tex-chtml-full.js`` and the site's config in
headless Chromium (Playwright, from the ``test`` extra) and asks the TeX input
jax for its configured packages and, for every TeX package the loader has,
the macro and environment names in that package's parse maps.

Run it after updating the vendored MathJax or the config::

    python scripts/mathjax_tex_names.py [--chromium /usr/bin/chromium]

``tests/test_reader_view.py`` checks that the file matches what the browser
reports, so a stale file fails the tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "static"
OUT = REPO / "src" / "kxsj" / "data" / "mathjax_tex.json"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="{static}/js/mathjax-config.js" data-mathjax="local"></script>
<script src="{static}/mathjax/tex-chtml-full.js"></script></head>
<body><article><span class="arithmatex">\\(x\\)</span></article></body></html>
"""

COLLECT = """() => {
  const tex = MathJax._.input.tex;
  const handler = tex.Configuration.ConfigurationHandler;
  const maps = tex.MapHandler.MapHandler;
  const jax = MathJax.startup.document.inputJax[0];
  const names = (list) => {
    const out = new Set();
    for (const name of list || []) {
      const map = maps.getMap(name);
      if (!map || !map.map) continue;
      // A delimiter map holds "\\\\langle" (looked up as "\\\\" + name) and "(": keep the macros.
      const delimiters = map instanceof tex.SymbolMap.DelimiterMap;
      for (const key of map.map.keys()) {
        if (!delimiters) out.add(key);
        else if (key.length > 1 && key[0] === '\\\\') out.add(key.slice(1));
      }
    }
    return [...out].sort();
  };
  const known = kxsjKnownPackages();
  const packages = {};
  const jaxPackages = [...new Set(jax.parseOptions.options.packages)].sort();
  for (const name of [...new Set([...Object.values(known), ...jaxPackages])].sort()) {
    const config = handler.get(name);
    if (!config) continue;
    packages[name] = {
      macros: names(config.handler.macro),
      environments: names(config.handler.environment),
    };
  }
  const require = jax.parseOptions.options.require;  // as kxsjRequireOffline set it
  return {
    mathjax: MathJax.version,
    page_packages: jaxPackages,
    packages,
    require_allowed: Object.keys(require.allow).filter((k) => require.allow[k]).sort(),
    require_default_allow: require.defaultAllow,
    require_v2_names: KXSJ_V2_EXTENSIONS,
  };
}"""


def collect(browser) -> dict:
    """What the vendored MathJax's TeX input knows, read in ``browser`` (Playwright)."""
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "names.html"
        page_file.write_text(PAGE.format(static=STATIC.as_uri()), encoding="utf-8")
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
            data = page.evaluate(COLLECT)
        finally:
            context.close()
    data["generated_by"] = "scripts/mathjax_tex_names.py from static/mathjax/tex-chtml-full.js and static/js/mathjax-config.js"
    return data


def dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True,
            args=["--no-sandbox", "--allow-file-access-from-files"],
        )
        try:
            data = collect(browser)
        finally:
            browser.close()
    OUT.write_text(dump(data), encoding="utf-8")
    total = sum(len(p["macros"]) for p in data["packages"].values())
    print(f"{OUT.relative_to(REPO)}: {len(data['packages'])} packages, {total} macro names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
