# Shared by start.sh, stop.sh, rgw-start.sh and rgw-stop.sh (sourced, not run).
# $CEPH_DIR/pids holds one "name pid" line per daemon this cluster started; nothing else is ever signalled.

: "${CEPH_DIR:?CEPH_DIR must name the directory of this cluster}"
PIDS="$CEPH_DIR/pids"
export CEPH_CONF="$CEPH_DIR/ceph.conf"
TIMEOUT=${TIMEOUT:-120}

t0=$(date +%s.%N)
log() { awk -v t0="$t0" -v now="$(date +%s.%N)" -v m="$*" 'BEGIN{printf "[%6.2fs] %s\n", now-t0, m}' >&2; }

# A pid is ours while it runs (not a zombie) as a ceph binary: guards against the pid being reused.
is_ours() {
  local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] || return 1
  case "$(cat "/proc/$1/comm" 2>/dev/null)" in ceph-*|radosgw) return 0;; *) return 1;; esac
}

pid_of() { awk -v n="$1" '$1==n{print $2}' "$PIDS" 2>/dev/null; }

# setsid: the daemon gets its own session, so it outlives the caller's terminal or process group.
# Its stdio goes to files: a caller reading our stdout (a test's process runner) must see EOF when we exit.
start_daemon() { # name, cmd...
  local name=$1; shift
  setsid "$@" -f </dev/null >>"$CEPH_DIR/log/$name.stdout" 2>&1 &
  local pid=$!
  echo "$name $pid" >> "$PIDS"
  log "started $name pid $pid"
}

# SIGTERM (SIGKILL with FAST=1), wait up to STOP_WAIT seconds, then SIGKILL what is left.
stop_group() { # "name pid" ...
  local e name pid deadline sig=TERM; [ "${FAST:-0}" = 1 ] && sig=KILL
  for e in "$@"; do read -r name pid <<<"$e"; is_ours "$pid" && kill -$sig "$pid" 2>/dev/null && log "SIG$sig $name ($pid)"; done
  deadline=$(( $(date +%s) + ${STOP_WAIT:-10} ))
  for e in "$@"; do read -r name pid <<<"$e"
    while is_ours "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
    if is_ours "$pid"; then kill -KILL "$pid" 2>/dev/null; log "SIGKILL $name ($pid)"; fi
  done
}

fail_logs() { for f in "$CEPH_DIR"/log/*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; }

wait_for() { # desc, daemon-to-check, cmd...
  local desc=$1 d=$2 pid; shift 2
  local end=$(( $(date +%s) + TIMEOUT ))
  pid=$(pid_of "$d")
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "$d (pid $pid) died"
    [ "$(date +%s)" -lt "$end" ] || die "timeout waiting for $desc"
    sleep 0.1
  done
  log "$desc: ok"
}

rgw_port() { sed -n 's/^rgw_frontends = beast endpoint=127.0.0.1:\([0-9]*\)$/\1/p' "$CEPH_CONF"; }

# An anonymous GET / answers ListAllMyBucketsResult once the gateway serves S3.
rgw_answers() { curl -sf --max-time 2 "http://127.0.0.1:$(rgw_port)/" | grep -q ListAllMyBucketsResult; }
