#!/usr/bin/env bash
# `make ha`: the high-availability topology on this machine, to try it. A 3-member etcd cluster
# (Debian's etcd 3.4, bootstrapped statically: the store must never depend on discovery), three
# replicas of the native server sharing it (`--store etcd://...`), and HAProxy in front on
# $PORT (HTTP API and app) and $GRPC_PORT (etcd's v3 API), with health checks on /ready.
# Everything is kept under $HA_STATE; Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8787}
GRPC_PORT=${GRPC_PORT:-2379}
HA_STATE=${HA_STATE:-state-ha}
BIN=${RENDEZVOUS_BIN:-target/native/rendezvous}
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
# The store's etcd and the replicas listen on loopback ports of their own.
ETCD_CLIENT=(22379 22381 22383)
ETCD_PEER=(22380 22382 22384)
REPLICA_HTTP=(18801 18802 18803)
REPLICA_GRPC=(18811 18812 18813)

mkdir -p "$HA_STATE"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "[ha] stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

cluster=""
for i in 0 1 2; do
  cluster+="${cluster:+,}store$i=http://127.0.0.1:${ETCD_PEER[$i]}"
done
endpoints=""
for i in 0 1 2; do
  etcd --name "store$i" --data-dir "$HA_STATE/store$i.etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[$i]}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token rendezvous-store \
    --logger zap --log-outputs stderr >"$HA_STATE/store$i.log" 2>&1 &
  pids+=($!)
  endpoints+="${endpoints:+,}127.0.0.1:${ETCD_CLIENT[$i]}"
done
echo "[ha] store: etcd at $endpoints (logs in $HA_STATE/store*.log)"

for i in 0 1 2; do
  "$BIN" --listen "127.0.0.1:${REPLICA_HTTP[$i]}" --grpc-listen "127.0.0.1:${REPLICA_GRPC[$i]}" \
    --store "etcd://$endpoints" --assets frontend/dist \
    --public-url "http://127.0.0.1:$PORT" --trusted-proxy-header X-Forwarded-For \
    >"$HA_STATE/replica$i.log" 2>&1 &
  pids+=($!)
done
echo "[ha] replicas: http 127.0.0.1:${REPLICA_HTTP[*]} (logs in $HA_STATE/replica*.log)"

export FRONT="127.0.0.1:$PORT" GRPC_FRONT="127.0.0.1:$GRPC_PORT"
for i in 1 2 3; do
  export "REPLICA_$i=127.0.0.1:${REPLICA_HTTP[$((i - 1))]}" "REPLICA_${i}_PORT=${REPLICA_HTTP[$((i - 1))]}"
  export "GRPC_$i=127.0.0.1:${REPLICA_GRPC[$((i - 1))]}"
done
"$HAPROXY" -W -db -f deploy/ha/haproxy.cfg >"$HA_STATE/haproxy.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then
    echo "[ha] serving on http://127.0.0.1:$PORT through HAProxy, etcd's v3 API on 127.0.0.1:$GRPC_PORT"
    echo "[ha] mint a token: curl 'http://127.0.0.1:$PORT/new?size=3'   (Ctrl-C stops everything)"
    wait -n || true
    echo "[ha] a process exited; see $HA_STATE/*.log"
    exit 1
  fi
  sleep 0.5
done
echo "[ha] not ready after 30 s; see $HA_STATE/*.log" >&2
exit 1
