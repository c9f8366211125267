#!/usr/bin/env bash
# Starts a throw-away single-node Ceph (1 monitor, 1 OSD, no manager, no cephx) and a RADOS Gateway
# serving S3 on 127.0.0.1, for the test suite and the bench. No systemd; every daemon's pid goes to
# $CEPH_DIR/pids and stop.sh stops exactly those. rgw-stop.sh / rgw-start.sh stop and start only the
# gateway (the fault tests take S3 away and bring it back while the cluster keeps its data).
#
# Needs (Debian): apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw curl
#
# Environment:
#   CEPH_DIR    this cluster's own directory (required; wiped first; must not hold a running cluster)
#   RGW_PORT    S3 port (default 7480)     MON_PORT  monitor port (default 3300)
#   STORE       memstore (default: starts fastest; data lives in the OSD's memory, up to
#               MEMSTORE_BYTES, default 4 GiB) | bluestore (a sparse file $CEPH_DIR/osd.0.block of
#               BLUESTORE_BYTES, default 10 GiB; a few seconds slower to start, memory flat with data)
#   S3_ACCESS_KEY / S3_SECRET_KEY   the S3 user's keys
#   OWNER_PID   if set, a watchdog stops the cluster when that process exits (a killed test run
#               leaves nothing behind)
# On success prints shell-sourceable lines (S3_ENDPOINT=..., AWS_ACCESS_KEY_ID=..., ...) and writes
# them to $CEPH_DIR/env.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-3300}
STORE=${STORE:-memstore}
S3_ACCESS_KEY=${S3_ACCESS_KEY:-WHARFTESTACCESSKEY01}
S3_SECRET_KEY=${S3_SECRET_KEY:-wharftestsecretkey000000000000000000000001}

die() {
  log "ERROR: $*"
  fail_logs
  # Leave no half cluster behind (KEEP_ON_FAIL=1 keeps it for a look; stop.sh cleans up later).
  if [ "${KEEP_ON_FAIL:-0}" != 1 ] && [ -f "$PIDS" ]; then KEEP=1 "$HERE/stop.sh" || true; fi
  exit 1
}

for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl setsid; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw curl)"
done
[ -f "$PIDS" ] && die "$PIDS exists: a cluster runs there, stop it with stop.sh first"
for port in "$MON_PORT" "$RGW_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "127.0.0.1:$port is already in use"; fi
done
rm -rf "$CEPH_DIR"
mkdir -p "$CEPH_DIR"/{log,run,mon.a,osd.0,rgw,crash}
: > "$PIDS"

FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)

cat > "$CEPH_CONF" <<CONF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw asks for "secure" by default, which needs cephx
ms_mon_client_mode = crc
auth_allow_insecure_global_id_reclaim = false
run_dir = $CEPH_DIR/run
crash_dir = $CEPH_DIR/crash
admin_socket = $CEPH_DIR/run/\$name.asok
log_file = $CEPH_DIR/log/\$name.log
log_to_stderr = false
err_to_stderr = true
mon_cluster_log_file = $CEPH_DIR/log/cluster.log
log_max_recent = 100
# one node, one replica
mon_allow_pool_size_one = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_crit = 1
mon_data_avail_warn = 2
mon_osd_full_ratio = .98
mon_osd_backfillfull_ratio = .97
mon_osd_nearfull_ratio = .96
osd_failsafe_full_ratio = .99
# every osdmap change (the OSD booting, each pool radosgw creates) waits one propose interval (1 s by default)
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
# the ceph CLI and radosgw-admin give up rather than hang when the monitor is gone
client_mount_timeout = 30
rados_mon_op_timeout = 60
rados_osd_op_timeout = 60

[mon]
mon_data = $CEPH_DIR/mon.\$id

[osd]
osd_data = $CEPH_DIR/osd.\$id
osd_objectstore = $STORE
memstore_device_bytes = ${MEMSTORE_BYTES:-4294967296}
# outside osd_data: bluestore links osd_data/block to this path
bluestore_block_path = $CEPH_DIR/osd.\$id.block
bluestore_block_create = true
bluestore_block_size = ${BLUESTORE_BYTES:-10737418240}
bluestore_fsck_on_mount = false
bluestore_fsck_on_mkfs = false
osd_memory_target = 939524096
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2
osd_scrub_begin_hour = 0
osd_scrub_end_hour = 0

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $CEPH_DIR/rgw
rgw_thread_pool_size = 64
rgw_dynamic_resharding = false
rgw_enable_usage_log = false
# deleted objects' data is reclaimed after a minute, not two hours (memstore holds it in memory)
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
CONF

# The OSD's mkfs needs no monitor: it runs while the monitor starts.
ceph-osd -i 0 --mkfs --no-mon-config --osd-uuid "$OSD_UUID" >/dev/null 2>"$CEPH_DIR/log/osd-mkfs.err" &
MKFS_PID=$!

monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$CEPH_DIR/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" >/dev/null 2>"$CEPH_DIR/log/mon-mkfs.err" || die "ceph-mon --mkfs failed"
start_daemon mon.a ceph-mon -i a
wait_for "monitor quorum" mon.a timeout 5 ceph --connect-timeout 3 mon stat

OSD_ID=$(ceph osd new "$OSD_UUID" 0)
[ "$OSD_ID" = 0 ] || die "unexpected osd id $OSD_ID"
wait "$MKFS_PID" || die "ceph-osd --mkfs failed"
log "osd mkfs ($STORE) done"
start_daemon osd.0 ceph-osd -i 0
wait_for "osd.0 up" osd.0 sh -c 'ceph osd dump 2>/dev/null | grep -q "^osd.0 up"'

if [ -n "${OWNER_PID:-}" ]; then
  # The watchdog is a plain shell: stop.sh knows it by name, and it runs stop.sh itself.
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -f "$2" ]; do sleep 1; done; [ -f "$2" ] && WATCHDOG=1 FAST=1 "$3"' \
    watchdog "$OWNER_PID" "$PIDS" "$HERE/stop.sh" </dev/null >>"$CEPH_DIR/log/watchdog.stdout" 2>&1 &
  echo "watchdog $!" >> "$PIDS"
  log "watchdog on pid $OWNER_PID"
fi

start_daemon rgw.a radosgw -n client.rgw.a
wait_for "gateway answers S3" rgw.a rgw_answers

# radosgw-admin writes the user straight into RADOS.
radosgw-admin user create --uid=wharf --display-name="wharf tests" \
  --access-key="$S3_ACCESS_KEY" --secret="$S3_SECRET_KEY" >/dev/null 2>"$CEPH_DIR/log/user-create.err" \
  || die "radosgw-admin user create failed"
log "S3 user created"

cat > "$CEPH_DIR/env" <<ENV
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
AWS_DEFAULT_REGION=us-east-1
CEPH_CONF=$CEPH_CONF
ENV
log "ready: S3 on http://127.0.0.1:$RGW_PORT"
cat "$CEPH_DIR/env"
