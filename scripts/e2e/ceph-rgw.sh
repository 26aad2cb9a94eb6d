#!/usr/bin/env bash
# ceph-rgw.sh start|stop|status — the real S3 backend of OSP's end-to-end lane.
#
# A single-host Ceph 16.2 cluster bound to 127.0.0.1 only: one monitor, one OSD on memstore
# (objects live in RAM), one radosgw with the beast frontend. No systemd, no containers, no
# auth between daemons. Everything (config, mon store, logs, pid files) lives in $OSP_CEPH_DIR.
#
#   start   idempotent: bootstraps a cluster if none exists, (re)starts only daemons that are
#           not running (e.g. a radosgw that aborted), creates the fixed test users, waits for
#           radosgw to answer within a deadline, then prints the endpoint and keys as KEY=VALUE.
#   stop    stops the daemons this script started, by their pid files only (checks the binary).
#   status  exit 0 and prints the endpoint when radosgw answers; exit 1 otherwise.
#
# Environment (defaults in brackets):
#   OSP_CEPH_DIR        [/tmp/osp-ceph]   state folder
#   RGW_PORT            [7480]            radosgw on 127.0.0.1:$RGW_PORT
#   OSP_CEPH_MON_PORT   [13300]           monitor msgr2 port (v1 port = this + 1); not 3300, so a
#                                          developer's other lab cluster does not collide
#   OSP_CEPH_DEADLINE_S [90]              seconds `start` may take before it gives up
#   FRESH=1                               start: wipe the state folder first
#   WIPE=1                                stop: delete the state folder afterwards
# Requires the packages of scripts/e2e/install-deps.sh.
set -euo pipefail

STATE_DIR=${OSP_CEPH_DIR:-/tmp/osp-ceph}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${OSP_CEPH_MON_PORT:-13300}
MON_V1_PORT=$((MON_PORT + 1))
DEADLINE_S=${OSP_CEPH_DEADLINE_S:-90}
ENDPOINT="http://127.0.0.1:${RGW_PORT}"
CONF="$STATE_DIR/ceph.conf"
CEPH=(-c "$CONF")

# Fixed test users. The keys are public test values (Ceph's own s3-tests use the first pair);
# they guard nothing but a throw-away cluster on loopback.
MAIN_USER=osp-e2e-main ALT_USER=osp-e2e-alt
MAIN_ACCESS_KEY=0555b35654ad1656d804
MAIN_SECRET_KEY='h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q=='
ALT_ACCESS_KEY=NOPQRSTUVWXYZABCDEFG
ALT_SECRET_KEY=nopqrstuvwxyzabcdefghijklmnabcdefghijklm

log() { printf '[ceph-rgw %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
now_ms() { date +%s%3N; }

pid_of() { local f="$STATE_DIR/run/$1.pid"; [[ -s $f ]] && cat "$f"; }
# A daemon counts as ours only if its pid file names a live process running the expected binary.
running() { # name binary
  local pid; pid=$(pid_of "$1") || return 1
  kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */"$2" ]]
}
rgw_answers() { curl -s -o /dev/null --max-time 2 "$ENDPOINT/"; }
mon_answers() { timeout 10 ceph "${CEPH[@]}" --connect-timeout 5 mon stat >/dev/null 2>&1; }
osd_up() { timeout 10 ceph "${CEPH[@]}" --connect-timeout 5 osd dump 2>/dev/null | grep -q '^osd\.0 up'; }

# wait_until <deadline-epoch-ms> <what> <command...>: polls every 200 ms.
wait_until() {
  local deadline=$1 what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if (($(now_ms) > deadline)); then log "gave up waiting for $what"; return 1; fi
    sleep 0.2
  done
}

write_conf() { # fsid
  mkdir -p "$STATE_DIR"/{run,log,mon.a,osd.0,rgw.a,crash}
  cat >"$CONF" <<CONF
# Written by scripts/e2e/ceph-rgw.sh on every start; only the fsid is kept across starts.
[global]
fsid = $1
mon host = [v2:127.0.0.1:${MON_PORT},v1:127.0.0.1:${MON_V1_PORT}]
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = $STATE_DIR/keyring
run dir = $STATE_DIR/run
crash dir = $STATE_DIR/crash
admin socket = $STATE_DIR/run/\$name.asok
pid file = $STATE_DIR/run/\$name.pid
log file = $STATE_DIR/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $STATE_DIR/log/\$cluster.log
# one OSD: every pool has a single replica and a handful of placement groups
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
osd objectstore = memstore
# capacity memstore reports; RAM is used only for bytes actually stored
memstore device bytes = 8589934592
# memstore persists to disk only on a clean umount, which the default fast shutdown skips
osd fast shutdown = false
osd memory target = 1073741824
osd op num shards = 2
osd op num threads per shard = 2

[mon.a]
mon data = $STATE_DIR/mon.a

[osd.0]
osd data = $STATE_DIR/osd.0

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${RGW_PORT}
# radosgw otherwise insists on a "secure" mon session, which auth=none cannot give it
ms mon client mode = crc secure
rgw data = $STATE_DIR/rgw.a
rgw thread pool size = 64
# deleted objects' data waits 2 h for garbage collection by default; on memstore that is RAM
rgw gc obj min wait = 20
rgw gc processor period = 20
rgw gc processor max time = 20
CONF
}

bootstrap() {
  log "bootstrapping a new cluster in $STATE_DIR"
  rm -rf "$STATE_DIR"
  local fsid osd_uuid osd_id
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  ceph-authtool --create-keyring "$STATE_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$STATE_DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" \
    --addv a "[v2:127.0.0.1:${MON_PORT},v1:127.0.0.1:${MON_V1_PORT}]" "$STATE_DIR/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$STATE_DIR/monmap" --keyring "$STATE_DIR/keyring" "${CEPH[@]}"
  ceph-mon -i a "${CEPH[@]}"
  wait_until "$DEADLINE_MS" "the monitor" mon_answers
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(ceph "${CEPH[@]}" osd new "$osd_uuid")
  [[ $osd_id == 0 ]] || { log "expected osd id 0, got $osd_id"; return 1; }
  ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" "${CEPH[@]}" 2>>"$STATE_DIR/log/osd-mkfs.log"
  ceph-osd -i 0 "${CEPH[@]}"
  wait_until "$DEADLINE_MS" "osd.0 up" osd_up
}

# Every pool answers a listing: false when memstore lost its data (the OSD was killed, not stopped).
pools_readable() {
  local pool
  for pool in $(timeout 10 ceph "${CEPH[@]}" --connect-timeout 5 osd pool ls 2>/dev/null); do
    timeout 10 rados "${CEPH[@]}" -p "$pool" ls >/dev/null 2>&1 || return 1
  done
}

resume() {
  write_conf "$(awk '$1 == "fsid" { print $3 }' "$CONF")"
  running mon.a ceph-mon || { log "starting mon.a"; ceph-mon -i a "${CEPH[@]}"; }
  wait_until "$DEADLINE_MS" "the monitor" mon_answers || return 1
  running osd.0 ceph-osd || { log "starting osd.0"; ceph-osd -i 0 "${CEPH[@]}"; }
  wait_until "$DEADLINE_MS" "osd.0 up" osd_up || return 1
  pools_readable || { log "pools unreadable (memstore data lost?)"; return 1; }
}

ensure_user() { # uid access-key secret-key
  local admin=(radosgw-admin "${CEPH[@]}" -n client.rgw.a --admin-socket= --log-file="$STATE_DIR/log/radosgw-admin.log")
  "${admin[@]}" user info --uid "$1" >/dev/null 2>&1 && return 0
  "${admin[@]}" user create --uid "$1" --display-name "$1" --access-key "$2" --secret-key "$3" >/dev/null
  log "created user $1"
}

print_endpoint() {
  cat <<OUT
OSP_E2E_RGW_ENDPOINT=$ENDPOINT
OSP_E2E_RGW_MAIN_ACCESS_KEY=$MAIN_ACCESS_KEY
OSP_E2E_RGW_MAIN_SECRET_KEY=$MAIN_SECRET_KEY
OSP_E2E_RGW_ALT_ACCESS_KEY=$ALT_ACCESS_KEY
OSP_E2E_RGW_ALT_SECRET_KEY=$ALT_SECRET_KEY
OUT
}

cmd_start() {
  local started_ms; started_ms=$(now_ms)
  DEADLINE_MS=$((started_ms + DEADLINE_S * 1000))
  for bin in ceph-mon ceph-osd radosgw radosgw-admin curl; do
    command -v "$bin" >/dev/null || { log "$bin missing: run scripts/e2e/install-deps.sh"; exit 1; }
  done
  if [[ ${FRESH:-0} == 1 && -d $STATE_DIR ]]; then
    log "FRESH=1: wiping $STATE_DIR"
    cmd_stop >&2
    rm -rf "$STATE_DIR"
  fi
  if running client.rgw.a radosgw && running osd.0 ceph-osd && running mon.a ceph-mon && rgw_answers; then
    log "already running"
    print_endpoint
    return 0
  fi
  if [[ ! -f $CONF || ! -d $STATE_DIR/mon.a/store.db ]]; then
    bootstrap
  elif ! resume; then
    log "the existing cluster would not come up; starting over"
    cmd_stop >&2
    bootstrap
  fi
  running client.rgw.a radosgw || { log "starting radosgw on $ENDPOINT"; radosgw -n client.rgw.a "${CEPH[@]}"; }
  if ! wait_until "$DEADLINE_MS" "radosgw on $ENDPOINT" rgw_answers; then
    tail -n 20 "$STATE_DIR/log/client.rgw.a.log" >&2 || true
    exit 1
  fi
  ensure_user "$MAIN_USER" "$MAIN_ACCESS_KEY" "$MAIN_SECRET_KEY"
  ensure_user "$ALT_USER" "$ALT_ACCESS_KEY" "$ALT_SECRET_KEY"
  local rss_kb=0 name pid
  for name in mon.a osd.0 client.rgw.a; do
    pid=$(pid_of "$name")
    rss_kb=$((rss_kb + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")))
  done
  log "up in $(($(now_ms) - started_ms)) ms; RSS of the three daemons $((rss_kb / 1024)) MiB"
  print_endpoint
}

stop_daemon() { # name binary
  local pid
  if running "$1" "$2"; then
    pid=$(pid_of "$1")
    kill -TERM "$pid"
    # SIGTERM lets the OSD unmount memstore cleanly; give it 30 s before SIGKILL.
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "$1 (pid $pid) ignored SIGTERM; SIGKILL"; kill -KILL "$pid"; fi
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$STATE_DIR/run/$1.pid"
}

cmd_stop() {
  stop_daemon client.rgw.a radosgw
  stop_daemon osd.0 ceph-osd
  stop_daemon mon.a ceph-mon
  if [[ ${WIPE:-0} == 1 ]]; then rm -rf "$STATE_DIR"; echo "wiped $STATE_DIR"; fi
}

cmd_status() {
  local name bin ok=0
  for pair in mon.a:ceph-mon osd.0:ceph-osd client.rgw.a:radosgw; do
    name=${pair%%:*} bin=${pair#*:}
    if running "$name" "$bin"; then echo "$name running (pid $(pid_of "$name"))"; else echo "$name not running"; ok=1; fi
  done
  if rgw_answers; then echo "radosgw answers on $ENDPOINT"; else echo "radosgw does not answer on $ENDPOINT"; ok=1; fi
  return $ok
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
