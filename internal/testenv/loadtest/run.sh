#!/usr/bin/env bash
# Measures Cairn under load on this machine, as BENCHMARKS.md reports it:
# starts devcluster (a real kube-apiserver and etcd, with the stand-in for
# Crossplane and Argo CD), Cairn with authentication on (one static admin
# token) on the chosen store, seeds the fleet through the API, then runs
# cairn-load over REST and gRPC: as fast as WORKERS callers go, then paced
# at RATE calls a second. Everything runs beside everything else.
#
#   internal/testenv/loadtest/run.sh sqlite      # or: postgres
#
# Settings, from the environment: SERVICES (10000), WORKERS (16), RATE
# (2000), DURATION (30s per protocol and run), MIX (cairn-load's default),
# CAIRN_GOMEMLIMIT (Go's soft memory limit for Cairn alone, such as 100MiB;
# none by default), KEEP=1 to leave the working directory (logs, database)
# behind.
# KUBEBUILDER_ASSETS defaults to the repository's .cache/kube/v1.37.2
# (`make kube-assets`). PostgreSQL runs from Debian's packages as the
# postgres user, with its default durability settings.
set -euo pipefail

engine=${1:-sqlite}
services=${SERVICES:-10000}
workers=${WORKERS:-16}
rate=${RATE:-2000}
duration=${DURATION:-30s}
mix=${MIX:-}
teams=20

root=$(cd "$(dirname "$0")/../../.." && pwd)
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/.cache/kube/v1.37.2}
work=$(mktemp -d /tmp/cairn-load-XXXXXX)
chmod 755 "$work"
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n ${pgdata:-} ]]; then
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
	fi
	if [[ ${KEEP:-} == 1 ]]; then
		echo "left in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS > deadline)); then
			echo "$what did not happen in time" >&2
			exit 1
		fi
		sleep 0.2
	done
}

echo "building into $work" >&2
(cd "$root" && go build -o "$work/cairn" ./cmd/cairn &&
	go build -o "$work/devcluster" ./internal/testenv/kubetest/devcluster &&
	go build -o "$work/cairn-load" ./internal/testenv/loadtest/cmd/cairn-load)

namespaces=()
for ((t = 0; t < teams; t++)); do namespaces+=(-namespace "$(printf team-%02d "$t")"); done
"$work/devcluster" -kubeconfig "$work/kubeconfig" "${namespaces[@]}" >"$work/devcluster.log" 2>&1 &
pids+=($!)
wait_for 180 "devcluster's start" grep -q "devcluster: serving" "$work/devcluster.log"

case $engine in
sqlite)
	store="sqlite:$work/cairn.db"
	;;
postgres)
	pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	pgdata=$work/pgdata
	pgport=$(free_port)
	install -d -o postgres -g postgres "$pgdata"
	runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 >"$work/initdb.log"
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/postgres.log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdata" start >/dev/null
	runuser -u postgres -- "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" cairn
	store="postgres://postgres@127.0.0.1:$pgport/cairn?sslmode=disable"
	;;
*)
	echo "usage: $0 sqlite|postgres" >&2
	exit 2
	;;
esac

token=$(openssl rand -hex 32)
cat >"$work/cairn.yaml" <<EOF
auth:
  mode: required
  tokens:
    - name: load
      sha256: $(printf %s "$token" | sha256sum | cut -d' ' -f1)
      roles: [admin]
EOF
http_port=$(free_port)
grpc_port=$(free_port)
# Rate limiting is off: the load comes from one principal, as a portal's
# proxy token would carry it, at many times the default 500 calls a second.
env ${CAIRN_GOMEMLIMIT:+GOMEMLIMIT=$CAIRN_GOMEMLIMIT} "$work/cairn" serve --config "$work/cairn.yaml" --store "$store" --kubeconfig "$work/kubeconfig" \
	--http-addr "127.0.0.1:$http_port" --grpc-addr "127.0.0.1:$grpc_port" --rate-limit 0 \
	--log-format json 2>"$work/cairn.log" &
cairn_pid=$!
pids+=("$cairn_pid")
wait_for 120 "Cairn's readiness" curl -fs "http://127.0.0.1:$http_port/readyz"

export CAIRN_TOKEN=$token
target=(-rest "http://127.0.0.1:$http_port" -grpc "127.0.0.1:$grpc_port" -services "$services" -teams "$teams")
"$work/cairn-load" seed "${target[@]}"
run=(run "${target[@]}" -pid "$cairn_pid" -duration "$duration")
if [[ -n $mix ]]; then run+=(-mix "$mix"); fi

echo
echo "## $engine: as fast as $workers callers go"
"$work/cairn-load" "${run[@]}" -workers "$workers"
echo
echo "## $engine: paced at $rate calls/s"
"$work/cairn-load" "${run[@]}" -rate "$rate" -workers 256
