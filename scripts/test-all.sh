#!/usr/bin/env bash
# The whole test suite: installs dependencies if needed, then runs every test on SQLite and, against a
# throwaway PostgreSQL cluster started here, on PostgreSQL. Ends with one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
exec scripts/with-postgres.sh node --import tsx scripts/run-tests.ts "$@"
