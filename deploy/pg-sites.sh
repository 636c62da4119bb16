#!/usr/bin/env bash
# PostgreSQL 15 for two sites: a primary "east" and synchronous standbys "west"
# (and optionally "west2"), streaming replication, no acknowledged commit lost.
#
#   LGCLOUD_PG_SITES_DIR=/srv/lgcloud-pg REPLICATION_PASSWORD=… \
#   EAST_PORT=5433 WEST_PORT=5434 [WEST2_PORT=5435] deploy/pg-sites.sh init
#   deploy/pg-sites.sh status            # who is primary, who streams, sync or quorum
#   deploy/pg-sites.sh promote [SITE]    # failover: fence check, promote, re-point the others
#   deploy/pg-sites.sh kill SITE         # SIGKILL a site's server (drills only)
#   deploy/pg-sites.sh stop | start | destroy
#
# One host runs all sites here (drills, tests); in production each site is its
# own host and LISTEN_ADDRESS / *_HOST name them. docs/operations.md explains the
# settings. As root, every server binary runs as the OS user "postgres".
set -euo pipefail

BASE="${LGCLOUD_PG_SITES_DIR:?set LGCLOUD_PG_SITES_DIR to the directory holding the sites}"
PGBIN="${LGCLOUD_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
LISTEN_ADDRESS="${LISTEN_ADDRESS:-127.0.0.1}"
HOST="${REPLICATION_HOST:-127.0.0.1}"
RUN="$BASE/run"          # Unix sockets (trusted, reachable by the OS user only)
ARCHIVE="$BASE/wal-archive"
SITES_FILE="$BASE/sites"  # "name port" per line, written by init
PRIMARY_FILE="$BASE/primary"

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- env PGPASSFILE="$BASE/.pgpass" "$@"; else PGPASSFILE="$BASE/.pgpass" "$@"; fi
}
log() { echo "pg-sites: $*" >&2; }
port_of() { awk -v s="$1" '$1 == s {print $2}' "$SITES_FILE"; }
sites() { awk '{print $1}' "$SITES_FILE"; }
primary() { cat "$PRIMARY_FILE"; }
sql() {  # sql SITE 'statement' — as the superuser over the site's Unix socket
    as_pg "$PGBIN/psql" -X -h "$RUN" -p "$(port_of "$1")" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$2"
}
running() { as_pg "$PGBIN/pg_ctl" -D "$BASE/$1" status >/dev/null 2>&1; }
answers() { as_pg "$PGBIN/pg_isready" -q -h "$RUN" -p "$(port_of "$1")" -t 1; }
pg_start() { as_pg "$PGBIN/pg_ctl" -D "$BASE/$1" -l "$BASE/$1.log" -w -t 60 start >/dev/null; }
standbys_of() { for s in $(sites); do [ "$s" = "$1" ] || echo "$s"; done; }

sync_names() {  # the value of synchronous_standby_names for these standbys
    local names; names=$(echo "$@" | tr ' ' ',')
    if [ $# -eq 0 ]; then echo ""; elif [ $# -eq 1 ]; then echo "FIRST 1 ($names)"; else echo "ANY 1 ($names)"; fi
}

set_sync() {  # set_sync PRIMARY STANDBY... — only once the standbys stream (else every commit hangs)
    local p="$1"; shift
    local value; value=$(sync_names "$@")
    sql "$p" "ALTER SYSTEM SET synchronous_standby_names = '$value'" >/dev/null
    sql "$p" "SELECT pg_reload_conf()" >/dev/null
    [ $# -eq 0 ] && { log "WARNING: $p has no standby: commits are NOT replicated until one rejoins"; return; }
    for _ in $(seq 1 200); do
        local n; n=$(sql "$p" "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync','quorum')")
        [ "$n" -ge $# ] && { log "$p: synchronous_standby_names = '$value'"; return; }
        sleep 0.1
    done
    log "standbys did not become synchronous on $p"; exit 1
}

attach_standby() {  # attach_standby SITE PRIMARY — base backup from PRIMARY, stream from its slot
    local s="$1" p="$2"
    sql "$p" "SELECT pg_create_physical_replication_slot('$s') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$s')" >/dev/null
    as_pg "$PGBIN/pg_basebackup" -h "$HOST" -p "$(port_of "$p")" -U replicator -D "$BASE/$s" -R -X stream -S "$s" -c fast
    point_at "$s" "$p"
    pg_start "$s"
}

point_at() {  # point_at STANDBY PRIMARY — the standby's port, name and upstream (postgresql.auto.conf: last line wins)
    local s="$1" p="$2"
    cat >>"$BASE/$s/postgresql.auto.conf" <<EOF
port = $(port_of "$s")
primary_conninfo = 'host=$HOST port=$(port_of "$p") user=replicator passfile=$BASE/.pgpass application_name=$s'
primary_slot_name = '$s'
EOF
}

cmd_init() {
    : "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD (the password of the replicator role)}"
    : "${EAST_PORT:?}" "${WEST_PORT:?}"
    [ -e "$BASE/east" ] && { log "$BASE/east exists already"; exit 1; }
    mkdir -p "$BASE" "$RUN" "$ARCHIVE"
    { echo "east $EAST_PORT"; echo "west $WEST_PORT"; [ -n "${WEST2_PORT:-}" ] && echo "west2 $WEST2_PORT"; } >"$SITES_FILE"
    printf '*:*:*:replicator:%s\n' "$REPLICATION_PASSWORD" >"$BASE/.pgpass"
    chmod 600 "$BASE/.pgpass"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$BASE"
    # --data-checksums: pg_rewind can bring a failed primary back as a standby.
    as_pg "$PGBIN/initdb" -D "$BASE/east" -U postgres --data-checksums -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 --no-instructions >/dev/null
    cat >>"$BASE/east/postgresql.conf" <<EOF

# lgcloud: east/west sites (deploy/pg-sites.sh)
listen_addresses = '$LISTEN_ADDRESS'
port = $EAST_PORT
unix_socket_directories = '$RUN'
wal_level = replica
wal_log_hints = on
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 256MB
hot_standby = on
# A commit is acknowledged only once a synchronous standby has flushed it (RPO 0).
synchronous_commit = on
# WAL archive for point-in-time recovery with the base backups (docs/operations.md).
archive_mode = on
archive_command = 'test ! -f $ARCHIVE/%f && cp %p $ARCHIVE/%f'
EOF
    [ -n "${LGCLOUD_PG_EXTRA_CONF:-}" ] && cat "$LGCLOUD_PG_EXTRA_CONF" >>"$BASE/east/postgresql.conf"
    pg_start east
    sql east "CREATE ROLE replicator REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD'" >/dev/null
    echo east >"$PRIMARY_FILE"
    local standbys; standbys=$(standbys_of east)
    for s in $standbys; do attach_standby "$s" east; done
    # shellcheck disable=SC2086
    set_sync east $standbys
    cmd_status
}

cmd_status() {
    for s in $(sites); do
        if ! answers "$s"; then echo "$s port=$(port_of "$s") DOWN"; continue; fi
        if [ "$(sql "$s" "SELECT pg_is_in_recovery()")" = t ]; then
            echo "$s port=$(port_of "$s") standby receive_lsn=$(sql "$s" "SELECT pg_last_wal_receive_lsn()")"
        else
            echo "$s port=$(port_of "$s") PRIMARY sync='$(sql "$s" "SHOW synchronous_standby_names")'"
            sql "$s" "SELECT '  -> ' || application_name || ' ' || state || ' ' || sync_state FROM pg_stat_replication ORDER BY 1"
        fi
    done
}

cmd_kill() {
    local s="${1:?site}" pid
    pid=$(head -1 "$BASE/$s/postmaster.pid")
    # The whole server at once, as when the site's machine is lost: the postmaster and its backends.
    kill -KILL "$pid" $(ps -o pid= --ppid "$pid") 2>/dev/null || true
    log "killed $s (postmaster $pid)"
}

cmd_promote() {
    local old; old=$(primary)
    # Fencing: never two primaries. The old primary must be gone (or stopped by hand) first.
    if answers "$old"; then log "the primary $old still answers; stop or fence it first"; exit 1; fi
    local target="${1:-}" best=""
    if [ -z "$target" ]; then
        # With a quorum (ANY 1) only some standbys have every acknowledged commit: take the furthest.
        for s in $(standbys_of "$old"); do
            answers "$s" || continue
            local lsn; lsn=$(sql "$s" "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')")
            if [ -z "$best" ] || [ "${lsn%.*}" -gt "$best" ]; then best="${lsn%.*}"; target="$s"; fi
        done
    fi
    [ -n "$target" ] || { log "no standby answers"; exit 1; }
    local followers=""
    for s in $(standbys_of "$target"); do
        [ "$s" = "$old" ] && continue
        answers "$s" && followers="$followers $s"
    done
    # A promoted standby does not inherit synchronous_standby_names. Set it before the
    # promotion, so that no commit is acknowledged before another site has it (RPO 0):
    # commits wait until the followers below stream from the new primary.
    # shellcheck disable=SC2086
    echo "synchronous_standby_names = '$(sync_names $followers)'" >>"$BASE/$target/postgresql.auto.conf"
    as_pg "$PGBIN/pg_ctl" -D "$BASE/$target" reload >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$BASE/$target" -w -t 60 promote >/dev/null
    echo "$target" >"$PRIMARY_FILE"
    log "promoted $target"
    # The other live standbys follow the new primary (they are at or behind it).
    for s in $followers; do
        sql "$target" "SELECT pg_create_physical_replication_slot('$s') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$s')" >/dev/null
        point_at "$s" "$target"
        as_pg "$PGBIN/pg_ctl" -D "$BASE/$s" -w -t 60 -m fast restart -l "$BASE/$s.log" >/dev/null
    done
    # shellcheck disable=SC2086
    set_sync "$target" $followers
}

cmd_rejoin() {  # rejoin SITE — a failed primary comes back as a standby of the current primary (pg_rewind)
    local s="${1:?site}" p; p=$(primary)
    running "$s" && as_pg "$PGBIN/pg_ctl" -D "$BASE/$s" -m fast -w stop >/dev/null || true
    # pg_rewind wants a cleanly shut down target: a crashed one is started and stopped once, alone.
    as_pg "$PGBIN/pg_ctl" -D "$BASE/$s" -l "$BASE/$s.log" -o "-c synchronous_standby_names='' -c archive_mode=off -c listen_addresses=''" -w start >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$BASE/$s" -m fast -w stop >/dev/null
    # The new timeline reaches pg_control only at a checkpoint after the promotion.
    sql "$p" "CHECKPOINT" >/dev/null
    as_pg "$PGBIN/pg_rewind" -D "$BASE/$s" --source-server="host=$RUN port=$(port_of "$p") user=postgres dbname=postgres" >/dev/null
    touch "$BASE/$s/standby.signal"
    sql "$p" "SELECT pg_create_physical_replication_slot('$s') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$s')" >/dev/null
    # pg_rewind copied the source's settings (port and synchronous_standby_names included): put ours back.
    point_at "$s" "$p"
    echo "synchronous_standby_names = ''" >>"$BASE/$s/postgresql.auto.conf"
    pg_start "$s"
    local followers; followers=$(sql "$p" "SELECT string_agg(application_name, ' ') FROM pg_stat_replication")
    # shellcheck disable=SC2086
    set_sync "$p" $followers
}

cmd_stop() { for s in $(sites); do running "$s" && as_pg "$PGBIN/pg_ctl" -D "$BASE/$s" -m fast -w stop >/dev/null || true; done; }
cmd_start() {
    pg_start "$(primary)"
    for s in $(standbys_of "$(primary)"); do running "$s" || pg_start "$s"; done
}
cmd_destroy() {
    for s in $(sites); do running "$s" && as_pg "$PGBIN/pg_ctl" -D "$BASE/$s" -m immediate -w stop >/dev/null || true; done
    rm -rf "$BASE"
}

case "${1:-}" in
    init) cmd_init ;;
    status) cmd_status ;;
    promote) shift; cmd_promote "$@" ;;
    kill) shift; cmd_kill "$@" ;;
    rejoin) shift; cmd_rejoin "$@" ;;
    stop) cmd_stop ;;
    start) cmd_start ;;
    destroy) cmd_destroy ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
esac
