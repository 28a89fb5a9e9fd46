#!/usr/bin/env bash
# The Debian packages the tests need, installed when missing (npm test runs this first):
# bubblewrap (the converter's sandbox), LibreOffice (ConvertToPdf), poppler-utils (pdftotext reads converted PDFs back), fonts
# (PDFs without a font hold no text), Chromium (the portal's browser tests), PgBouncer (the PostgreSQL tests run nodes behind it).
set -euo pipefail
PACKAGES="bubblewrap libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils fonts-dejavu-core chromium pgbouncer"

command -v dpkg >/dev/null 2>&1 || { echo "system-deps: not a Debian system; install LibreOffice, poppler-utils and Chromium yourself" >&2; exit 0; }
missing=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing Debian packages: $missing — run: sudo apt-get install -y $missing" >&2
  exit 1
fi
echo "system-deps: installing $missing (this takes a few minutes once) …"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
