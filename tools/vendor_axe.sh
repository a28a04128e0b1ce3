#!/usr/bin/env bash
# Vendor axe-core (Deque's accessibility rules engine) from its npm package for the site's accessibility test,
# which injects it into every page with Playwright. Runs `npm pack` only when the file is missing; axe-core is
# never committed and never part of the site (it lives outside _build/html).
# Usage: tools/vendor_axe.sh [DEST]   (default: _build/axe, see AXE in tests/test_a11y.py)
set -euo pipefail

PACKAGE="axe-core@4.14.1"
DEST="${1:-_build/axe}"

if [[ -f "$DEST/axe.min.js" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found; install Node.js/npm (it fetches $PACKAGE for the accessibility test) and run make again" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "vendoring $PACKAGE into $DEST"
(cd "$work" && npm pack "$PACKAGE" --silent >/dev/null)
tar -xzf "$work"/axe-core-*.tgz -C "$work"
mkdir -p "$DEST.partial"
cp "$work/package/axe.min.js" "$work/package/LICENSE" "$work/package/package.json" "$DEST.partial/"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
