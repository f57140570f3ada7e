#!/usr/bin/env bash
# A highly available PostgreSQL for glasslog on one machine, from Debian's packages: three
# PostgreSQL 15 instances managed by Patroni on a three-member etcd, synchronous_mode on, all
# on loopback. For tests and trials (trust authentication on 127.0.0.1); a production cluster
# is the same shape on three machines.
#
#   deploy/cluster/cluster.sh up DIR [BASE_PORT]   start it; DIR/env then holds GLASSLOG_PG_URL
#   deploy/cluster/cluster.sh leader DIR           the node that is primary now (pg0, pg1, pg2)
#   deploy/cluster/cluster.sh kill DIR NODE        SIGKILL a node: its Patroni and PostgreSQL
#   deploy/cluster/cluster.sh start DIR NODE       start a killed node again (it rejoins)
#   deploy/cluster/cluster.sh wait DIR             until there is a primary and a sync standby
#   deploy/cluster/cluster.sh down DIR             stop everything the cluster started
#
# Ports: etcd clients BASE+0..2, etcd peers BASE+10..12, PostgreSQL BASE+20..22, Patroni's
# REST API BASE+30..32. GLASSLOG_PATRONI_TTL (default 10; Patroni's own default is 30) sets the
# leader lease; loop_wait and retry_timeout follow it (Patroni needs loop_wait + 2 x
# retry_timeout <= ttl) unless GLASSLOG_PATRONI_LOOP_WAIT and GLASSLOG_PATRONI_RETRY set them
# (Patroni's defaults: 30, 10, 10). Needs apt-get install patroni etcd-server postgresql python3-etcd.
set -euo pipefail

cmd=${1:?usage: cluster.sh up|leader|kill|start|wait|down DIR ...}
dir=${2:?usage: cluster.sh $cmd DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

base() { cat "$dir/base"; }
pg_port() { echo $(($(base) + 20 + ${1#pg})); }
rest_port() { echo $(($(base) + 30 + ${1#pg})); }

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# A process in a session (and process group) of its own, so that a kill reaches everything
# it started, as a machine dying would.
spawn() {
  local name=$1
  shift
  setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

kill_group() {
  local pidfile="$dir/$1.pid"
  [ -f "$pidfile" ] || return 0
  kill -9 -- "-$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

start_node() {
  local node=$1
  spawn "$node" runuser -u postgres -- /usr/bin/patroni "$dir/$node.yml"
}

# The cluster's state from any Patroni that answers: "leader sync_standby" (either may be "-").
state() {
  local n out
  for n in pg0 pg1 pg2; do
    out=$(curl -sf --max-time 1 "http://127.0.0.1:$(rest_port $n)/cluster" 2>/dev/null) || continue
    /usr/bin/python3 -c '
import json, sys
members = json.loads(sys.argv[1]).get("members", [])
leader = [m["name"] for m in members if m.get("role") == "leader" and m.get("state") == "running"]
sync = [m["name"] for m in members if m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming")]
print((leader or ["-"])[0], (sync or ["-"])[0])' "$out" && return 0
  done
  echo "- -"
}

wait_ready() {
  local i s
  for i in $(seq 1 240); do
    s=$(state)
    case "$s" in
    "- "* | *" -") sleep 0.5 ;;
    *)
      echo "$s"
      return 0
      ;;
    esac
  done
  echo "the cluster has no primary with a synchronous standby after 120 s (state: $s); logs in $dir" >&2
  return 1
}

case "$cmd" in
up)
  port=${3:-15400}
  echo "$port" >"$dir/base"
  ttl=${GLASSLOG_PATRONI_TTL:-10}
  loop_wait=${GLASSLOG_PATRONI_LOOP_WAIT:-$((ttl / 5 > 0 ? ttl / 5 : 1))}
  retry=${GLASSLOG_PATRONI_RETRY:-$(((ttl - loop_wait) / 2 - 1))}
  [ "$retry" -ge 1 ] || retry=1
  chmod 755 "$dir"
  cluster=""
  clients=""
  for i in 0 1 2; do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:$((port + 10 + i))"
    clients+="${clients:+,}127.0.0.1:$((port + i))"
  done
  for i in 0 1 2; do
    spawn "etcd$i" /usr/bin/etcd --name "e$i" --data-dir "$dir/etcd$i" \
      --listen-client-urls "http://127.0.0.1:$((port + i))" \
      --advertise-client-urls "http://127.0.0.1:$((port + i))" \
      --listen-peer-urls "http://127.0.0.1:$((port + 10 + i))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((port + 10 + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token "glasslog-$port" --enable-v2=true
  done
  for i in $(seq 1 100); do
    ETCDCTL_API=3 etcdctl --endpoints "$clients" endpoint health >/dev/null 2>&1 && break
    sleep 0.2
  done
  for i in 0 1 2; do
    node=pg$i
    mkdir -p "$dir/$node"
    chown postgres: "$dir/$node"
    chmod 700 "$dir/$node"
    cat >"$dir/$node.yml" <<EOF
scope: glasslog-$port
name: $node
restapi:
  listen: 127.0.0.1:$((port + 30 + i))
  connect_address: 127.0.0.1:$((port + 30 + i))
etcd3:
  hosts: $clients
bootstrap:
  dcs:
    ttl: $ttl
    loop_wait: $loop_wait
    retry_timeout: $retry
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        synchronous_commit: "on"
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 100
  initdb:
    - encoding: UTF8
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$((port + 20 + i))
  connect_address: 127.0.0.1:$((port + 20 + i))
  data_dir: $dir/$node/data
  bin_dir: $bin
  pgpass: $dir/$node/pgpass
  authentication:
    replication:
      username: replicator
      password: replicator
    superuser:
      username: postgres
      password: postgres
    rewind:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: $dir/$node
EOF
    chown postgres: "$dir/$node.yml"
    start_node "$node"
    # The first node bootstraps the cluster; the others then clone it.
    if [ "$i" = 0 ]; then
      for j in $(seq 1 240); do
        [ "$(state | cut -d' ' -f1)" = pg0 ] && break
        sleep 0.5
      done
    fi
  done
  read -r leader _ < <(wait_ready)
  lp=$(pg_port "$leader")
  for j in $(seq 1 40); do
    "$bin/psql" -h 127.0.0.1 -p "$lp" -U postgres -Atqc "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.25
  done
  "$bin/psql" -h 127.0.0.1 -p "$lp" -U postgres -qc "CREATE DATABASE glasslog" >/dev/null
  hosts="127.0.0.1:$((port + 20)),127.0.0.1:$((port + 21)),127.0.0.1:$((port + 22))"
  # Quoted: the URL holds an &, and the file is meant to be sourced.
  echo "GLASSLOG_PG_URL='postgresql://postgres@$hosts/glasslog?target_session_attrs=read-write&connect_timeout=2'" >"$dir/env"
  cat "$dir/env"
  ;;
leader) state | cut -d' ' -f1 ;;
wait) wait_ready ;;
kill)
  node=${3:?which node}
  # Patroni starts PostgreSQL in a session of its own, and each backend makes its own: stop
  # Patroni (so it restarts nothing), then kill the postmaster and all its children at once,
  # as a machine dying would, then Patroni.
  [ -f "$dir/$node.pid" ] && kill -STOP -- "-$(cat "$dir/$node.pid")" 2>/dev/null || true
  pm=$(head -1 "$dir/$node/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pm" ]; then
    # shellcheck disable=SC2046
    kill -9 "$pm" $(pgrep -P "$pm") 2>/dev/null || true
  fi
  kill_group "$node"
  ;;
start) start_node "${3:?which node}" ;;
down)
  for n in pg0 pg1 pg2; do "$0" kill "$dir" "$n"; done
  for n in etcd0 etcd1 etcd2; do kill_group "$n"; done
  ;;
*)
  echo "unknown command $cmd" >&2
  exit 2
  ;;
esac
