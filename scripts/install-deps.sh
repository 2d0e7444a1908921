#!/bin/sh
# Installs, from Debian's packages, what keg needs to build, run and test.
# Only what is missing is installed; `apt-get update` runs only then.
set -eu

BUILD="autoconf automake make gcc pkg-config libevent-dev libjansson-dev
libarchive-dev libcurl4-openssl-dev nettle-dev libsqlite3-dev
libseccomp-dev libcap-dev"
RUN="runc"
# Tests build images offline and push them to a registry they start on
# 127.0.0.1: docker-registry, skopeo, umoci, busybox-static, htpasswd.
TEST="curl jq python3 python3-pytest python3-requests-unixsocket python3-yaml
python3-jsonschema zstd valgrind docker-registry skopeo umoci busybox-static
apache2-utils"

case "${1:-build}" in
build) want="$BUILD" ;;
run) want="$BUILD $RUN" ;;
test) want="$BUILD $RUN $TEST" ;;
*) echo "usage: $0 build|run|test" >&2; exit 2 ;;
esac

missing=""
for pkg in $want; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "keg: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "keg: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
