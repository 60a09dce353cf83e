#!/usr/bin/env bash
# make run: usage: dev.sh GATEWAY_BINARY CONFIG
# Reads the node's settings as serve will (CONFIG plus GATEWAY_* variables).
# MariaDB or Redis at its default local address (127.0.0.1:3306,
# 127.0.0.1:6379) that does not answer is installed (apt-get, when missing)
# and started by services.sh; anything else is only checked, with the
# configured credentials, and nothing is installed for it. Then it prints
# how to reach the node and runs it.
set -euo pipefail
bin=$1 config=$2
log() { echo "make run: $*"; }

values=$("$bin" config print -config "$config") || exit 1
setting() { awk -v k="$1" '$1 == k { print $2 }' <<<"$values"; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

mysql_addr=$(setting mysql.dsn | sed -n 's/^[^@]*@tcp(\([^)]*\)).*/\1/p')
redis_mode=$(setting redis.mode) redis_addr=$(setting redis.addr)
case "$mysql_addr" in
127.0.0.1:3306 | localhost:3306)
	if ! tcp_open 127.0.0.1 3306; then
		log "nothing answers on 127.0.0.1:3306 (mysql.dsn): provisioning a local MariaDB"
		bash .ci/services.sh --mariadb
	fi
	;;
*) log "MySQL at ${mysql_addr:-the configured DSN}: checking it, installing nothing" ;;
esac
if [ "$redis_mode" = standalone ] && { [ "$redis_addr" = 127.0.0.1:6379 ] || [ "$redis_addr" = localhost:6379 ]; }; then
	if ! tcp_open 127.0.0.1 6379; then
		log "nothing answers on 127.0.0.1:6379 (redis.addr): provisioning a local Redis"
		bash .ci/services.sh --redis
	fi
else
	log "Redis ($redis_mode) at $(setting redis.addr | sed 's/^""$//')$(setting redis.addrs | sed 's/^""$//'): checking it, installing nothing"
fi

if ! "$bin" config check -connect -config "$config" >/dev/null; then
	log "the settings above do not reach MySQL or Redis (gateway config print -config $config shows them)"
	exit 1
fi

http=$(setting http.addr) grpc=$(setting grpc.addr)
base="http://localhost:${http##*:}"
if [ -n "${GATEWAY_API_KEY:-}${GATEWAY_API_KEY_FILE:-}" ]; then
	key="(the one in GATEWAY_API_KEY${GATEWAY_API_KEY_FILE:+_FILE})"
else
	key=$(sed -n 's/^api_key: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$config")
fi
log "HTTP and WebSocket on $base (demo page $base/web/), gRPC on :${grpc##*:}"
log "API key for /api/push and the asynq UI: ${key:-none (set api_key)}"
log "  curl -X POST $base/api/push -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -d '{\"user_ids\":[1001],\"title\":\"hi\",\"content\":\"hello\"}'"
exec "$bin" serve -config "$config"
