#!/usr/bin/env bash
# Known-vulnerability audit (pip-audit) of every package installed in .venv: the dependency set
# the tests ran against. --strict: a package that cannot be audited FAILS the step, so a
# network that hides the advisory database can never produce a false "no known
# vulnerabilities". AUDIT_SERVICE=pypi (default: PyPI's JSON API, per-version "vulnerabilities")
# or osv (api.osv.dev). Extra arguments go to pip-audit (e.g. --format json -o audit.json).
set -euo pipefail
cd "$(dirname "$0")/.."
service="${AUDIT_SERVICE:-pypi}"
exec .venv/bin/pip-audit --local --strict --skip-editable --vulnerability-service "$service" \
  --progress-spinner off --desc on "$@"
