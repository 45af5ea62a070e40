#!/bin/sh
# Build src/kxsj/data/mathjax-engine.js, the build-time MathJax (math: build),
# and the stylesheet its output needs: static/mathjax/kxsj-chtml.css (the
# site's part) and src/kxsj/data/mathjax-chars.css (the characters' rules).
#
# The bundle is mathjax-full 3.2.2's prebuilt components (es5/, the files
# the vendored static/mathjax/tex-chtml-full.js is made of; this script
# checks that it is byte for byte that release's) with liteDOM instead of
# the browser's DOM, between scripts/mathjax_bundle/config.js (which holds
# static/js/mathjax-config.js, the pages' configuration) and kxsj.js.
# (No bundler: the components are already built and minified, and
# re-bundling their sources gives module objects MathJax cannot merge its
# configuration into.)  Run once after changing scripts/mathjax_bundle/*.js; the
# results are committed, so users never need node or npm.  Needs node, npm
# and kxsj installed with its dependencies (for the stylesheet).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent mathjax-full@3.2.2
ES5=node_modules/mathjax-full/es5
cmp "$ES5/tex-chtml-full.js" "$ROOT/static/mathjax/tex-chtml-full.js"
{
  # config.js with the pages' configuration in its place
  sed -e "/\/\*@MATHJAX_CONFIG@\*\//r $ROOT/static/js/mathjax-config.js" -e "/\/\*@MATHJAX_CONFIG@\*\//d" \
    "$ROOT/scripts/mathjax_bundle/config.js"
  for part in startup core adaptors/liteDOM input/tex-full output/chtml output/chtml/fonts/tex a11y/assistive-mml; do
    printf '\n/* mathjax-full 3.2.2 es5/%s.js */\n' "$part"
    cat "$ES5/$part.js"
  done
  printf '\n'
  cat "$ROOT/scripts/mathjax_bundle/kxsj.js"
} > "$ROOT/src/kxsj/data/mathjax-engine.js"
cd "$ROOT"
python -c 'from kxsj.render.mathengine import write_stylesheet; write_stylesheet()'
