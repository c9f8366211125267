#!/usr/bin/env bash
# Stops only the RADOS Gateway of the cluster in $CEPH_DIR (the monitor and OSD keep the data), so S3
# refuses connections until rgw-start.sh. FAST=1: SIGKILL at once, as a crash would.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
[ -f "$PIDS" ] || { log "no $PIDS: no cluster"; exit 1; }
mapfile -t RGW < <(grep '^rgw' "$PIDS")
[ ${#RGW[@]} -gt 0 ] || { log "the gateway is not running"; exit 0; }
stop_group "${RGW[@]}"
sed -i '/^rgw/d' "$PIDS"
log "gateway stopped"
