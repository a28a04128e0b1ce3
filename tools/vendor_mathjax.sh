#!/usr/bin/env bash
# Vendor MathJax 3 from its npm package into the site's static files, so pages typeset math offline and no page
# loads MathJax from a CDN. Runs `npm pack` only when the files are missing; MathJax is never committed.
# Usage: tools/vendor_mathjax.sh [DEST]   (default: _build/vendor/_static/mathjax, see html_extra_path in _config.yml)
set -euo pipefail

PACKAGE="mathjax@3.2.2"
DEST="${1:-_build/vendor/_static/mathjax}"

if [[ -f "$DEST/tex-chtml.js" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found; install Node.js/npm (it fetches $PACKAGE for offline math) and run make again" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "vendoring $PACKAGE into $DEST"
# A stalled registry connection would otherwise hang the build.
if ! (cd "$work" && timeout "${NPM_TIMEOUT:-300}" npm pack "$PACKAGE" --silent >/dev/null); then
  echo "error: \`npm pack $PACKAGE\` failed or took over ${NPM_TIMEOUT:-300} s; check that the npm registry is reachable and run make again" >&2
  exit 1
fi
tar -xzf "$work"/mathjax-*.tgz -C "$work"
# es5/ holds the browser build: the combined tex-chtml component plus the fonts and extensions it loads on demand.
cp "$work/package/LICENSE" "$work/package/es5/"
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial"
mv "$work/package/es5" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
