#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on a free loopback port, then removes the cluster.
# Installs the PostgreSQL server from Debian's packages when it is missing (needs root, as in CI).
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]   (the command sees SCHAKEL_TEST_PG_URL)
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PGBIN=$(find_bin || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/postgres" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "with-postgres: installing the PostgreSQL server (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
    PGBIN=$(find_bin)
  else
    echo "with-postgres: no PostgreSQL server found and not root; install it with: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
fi

PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
DIR=$(mktemp -d /tmp/schakel-pg.XXXXXX)
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
else
  AS=()
fi

cleanup() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
  || "${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
# Tuned for a throwaway test cluster: durability off (fsync) is fine here, the data is discarded.
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -w -l "$DIR/log" \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
"${AS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres schakel_test

export SCHAKEL_TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT/schakel_test"
export SCHAKEL_PG_ADMIN_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
set +e
"$@"
status=$?
set -e
exit $status
