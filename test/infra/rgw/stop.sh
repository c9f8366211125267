#!/usr/bin/env bash
# Stops exactly the daemons start.sh started (the pids in $CEPH_DIR/pids) and wipes $CEPH_DIR.
# The gateway goes first (it hangs in shutdown when the OSD or monitor vanish under it), then the OSD
# and the monitor together. FAST=1: SIGKILL at once (the data is throw-away). KEEP=1 keeps the
# directory (its logs) for a look.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
[ -f "$PIDS" ] || { log "no $PIDS: nothing to stop"; exit 0; }

watchdog=$(pid_of watchdog)
if [ -n "$watchdog" ] && [ "${WATCHDOG:-0}" != 1 ] && [ "$(cat "/proc/$watchdog/comm" 2>/dev/null)" = bash ]; then
  kill "$watchdog" 2>/dev/null
fi
mapfile -t RGW < <(grep '^rgw' "$PIDS")
mapfile -t REST < <(grep -v -e '^rgw' -e '^watchdog' "$PIDS" | tac)
[ ${#RGW[@]} -gt 0 ] && stop_group "${RGW[@]}"
[ ${#REST[@]} -gt 0 ] && stop_group "${REST[@]}"
if [ "${KEEP:-0}" = 1 ]; then mv "$PIDS" "$PIDS.stopped"; else rm -rf "$CEPH_DIR"; fi
log "stopped"
