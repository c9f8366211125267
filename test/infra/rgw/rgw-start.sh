#!/usr/bin/env bash
# Starts the RADOS Gateway of the cluster in $CEPH_DIR again (after rgw-stop.sh), on the same port,
# and returns once it answers S3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
die() { log "ERROR: $*"; fail_logs; exit 1; }
[ -f "$PIDS" ] || die "no $PIDS: no cluster (start.sh first)"
[ -z "$(pid_of rgw.a)" ] || die "the gateway runs already (pid $(pid_of rgw.a))"
start_daemon rgw.a radosgw -n client.rgw.a
wait_for "gateway answers S3" rgw.a rgw_answers
