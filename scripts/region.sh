# A region on several machines, on this one (sourced by scripts/region, scripts/load --region
# and scripts/failover): a private PostgreSQL cluster, replicas of the regional server sharing
# it, HAProxy in front. Terminals' mTLS port and the public HTTPS port are passed through as
# TCP with a PROXY v2 header (each replica terminates TLS and verifies client certificates
# itself, and sees each client's address); HAProxy checks each replica's GET /ready over HTTPS
# every second and stops sending it work when it fails twice.
#
# region_start STATE_DIR REPLICAS [CONNECTIONS]  — sets REGION_PUBLIC, REGION_DEVICES,
#   REGION_CA, REGION_PASSWORD (the admin `region-admin`'s), REPLICA_PIDS, HAPROXY_PIDS (and
#   HAPROXY_PID, the first); region_stop ends it. CONNECTIONS: how many clients will hold a
#   connection at once (default 1,000). A proxied connection takes two of HAProxy's open files;
#   where the system caps a process's open files below what that needs (and will not raise the
#   cap), several HAProxy processes bind the same ports (SO_REUSEPORT, HAProxy's default) and
#   the kernel shares the connections among them; on a production host raise LimitNOFILE.

region_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

region_start() {
  local state="$1" replicas="${2:-2}" connections="${3:-1000}"
  local target="${CARGO_TARGET_DIR:-target}/release"
  # Each terminal holds a connection on HAProxy's both sides: as many as the system lets us.
  ulimit -n 400000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  local maxconn=$(( ($(ulimit -n) - 1000) / 2 ))
  # Room for a third more than asked: the kernel's sharing is even only on average.
  local balancers=$(( (connections * 4 / 3) / maxconn + 1 ))
  mkdir -p "$state"
  REGION_STATE="$state"
  local pg
  pg="$(scripts/postgres start "$state/postgres")"
  if ! psql -X -At -d "$pg" -c "SELECT 1 FROM pg_database WHERE datname = 'menpai'" | grep -q 1; then
    psql -X -q -d "$pg" -c "CREATE DATABASE menpai TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
  fi
  local url="${pg% dbname=postgres} dbname=menpai"
  REGION_PASSWORD="region-admin-password"
  REPLICA_PIDS=()
  local backends_public="" backends_devices="" r
  for r in $(seq 1 "$replicas"); do
    local dir="$state/replica$r"
    mkdir -p "$dir"
    cat > "$dir/server.toml" <<TOML
listen_public = "127.0.0.1:0"
listen_devices = "127.0.0.1:0"
data_dir = "$dir/data"
database_url = "$url"
region_key_file = "$state/region.key"
proxy_protocol_from = ["127.0.0.1"]
device_tickets_per_minute = 100000
TOML
    if [ "$r" -eq 1 ]; then
      # The first replica makes the region's keys and schema; the demo region is published once.
      MENPAI_PASSWORD="$REGION_PASSWORD" "$target/menpai-server" add-operator region-admin admin \
        --config "$dir/server.toml" >/dev/null
      "$target/menpai-server" publish content/demo-region --config "$dir/server.toml" >/dev/null
    fi
    : > "$dir/ports"
    "$target/menpai-server" serve --config "$dir/server.toml" > "$dir/ports" 2> "$dir/server.log" &
    REPLICA_PIDS+=($!)
    local _
    for _ in $(seq 1 300); do [ "$(wc -l < "$dir/ports")" -ge 2 ] && break; sleep 0.1; done
    local pub dev
    pub=$(sed -n 's|^public https://||p' "$dir/ports")
    dev=$(sed -n 's|^devices https://||p' "$dir/ports")
    [ -n "$pub" ] && [ -n "$dev" ] || { echo "region: replica $r did not start:" >&2; tail -5 "$dir/server.log" >&2; return 1; }
    local check="check check-ssl verify none check-send-proxy send-proxy-v2 inter 1s fall 2 rise 2"
    backends_public+="    server replica$r $pub $check"$'\n'
    backends_devices+="    server replica$r $dev $check port ${pub##*:}"$'\n'
  done
  local hp hd
  hp=$(region_free_port)
  hd=$(region_free_port)
  cat > "$state/haproxy.cfg" <<CFG
global
    maxconn $maxconn
    log stderr format raw local0 info

defaults
    mode tcp
    # Connections that ended abnormally (with their termination codes), and replicas' state.
    log global
    option tcplog
    option dontlog-normal
    timeout connect 5s
    timeout client 2h
    timeout server 2h
    timeout tunnel 2h
    option httpchk GET /ready
    http-check expect status 200
    # A connection to a replica that just died goes to another one.
    retries 3
    option redispatch

frontend public
    bind 127.0.0.1:$hp
    default_backend replicas_public

frontend devices
    bind 127.0.0.1:$hd
    default_backend replicas_devices

backend replicas_public
    balance roundrobin
$backends_public
backend replicas_devices
    balance leastconn
$backends_devices
CFG
  haproxy -c -q -f "$state/haproxy.cfg"
  HAPROXY_PIDS=()
  local b log
  for b in $(seq 1 "$balancers"); do
    log="$state/haproxy.log"
    [ "$b" -gt 1 ] && log="$state/haproxy-$b.log"
    haproxy -db -f "$state/haproxy.cfg" > "$log" 2>&1 &
    HAPROXY_PIDS+=($!)
  done
  HAPROXY_PID="${HAPROXY_PIDS[0]}"
  REGION_PUBLIC="https://127.0.0.1:$hp"
  REGION_DEVICES="https://127.0.0.1:$hd"
  REGION_CA="$state/replica1/data/ca.pem"
  # Ready when HAProxy answers /ready through a replica.
  for _ in $(seq 1 100); do
    curl -sfk "$REGION_PUBLIC/ready" >/dev/null && return 0
    sleep 0.2
  done
  echo "region: HAProxy does not reach a ready replica" >&2
  return 1
}

region_stop() {
  local p
  for p in "${HAPROXY_PIDS[@]:-}"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
  done
  for p in "${REPLICA_PIDS[@]:-}"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  if [ -n "${REGION_STATE:-}" ]; then scripts/postgres stop "$REGION_STATE/postgres" || true; fi
}
