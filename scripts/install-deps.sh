#!/bin/sh
# Installs everything Sardine needs to build and test on Debian 12 (run as root).
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y build-essential pkg-config libjemalloc-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev libcmocka-dev libedit-dev liblzf-dev libzstd-dev libssl-dev openssl \
    redis-server redis-tools python3 python3-pytest python3-redis python3-hypothesis valgrind nodejs
# Debian starts a redis-server service on install; the tests start their own servers.
(service redis-server stop || systemctl stop redis-server || true) >/dev/null 2>&1
