#!/bin/sh
# Install the Debian packages Wire needs, only those missing. Idempotent.
#   scripts/deps.sh            what building and `make test` need
#   scripts/deps.sh PKG...     only these (bench/cluster.sh: etcd-server, which
#                              the tests do not need, so `make deps` skips it)
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev libuv1-dev libraft-dev libyaml-dev
libpcre2-dev libcurl4-openssl-dev libcjson-dev libzstd-dev libhttp-parser-dev zlib1g-dev
librdkafka-dev libssl-dev kcat python3 curl wrk time openssl"
[ $# -gt 0 ] && PKGS="$*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then echo "deps: need root to install:$missing" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
