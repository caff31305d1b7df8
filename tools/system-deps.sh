#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: Chromium (scrapy-playwright),
# redis-server (scrapy-redis), nginx-light (benchmarks), wget (benchmarks; WARCs of another writer for the reader's
# tests), mimalloc (the allocator `scrapy reextract` runs under; its tests check it). Idempotent; needs root on a
# fresh machine.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || need+=(nginx-light)
command -v wget >/dev/null || need+=(wget)
command -v certutil >/dev/null || need+=(libnss3-tools)
/sbin/ldconfig -p | grep 'libmimalloc\.so' >/dev/null || need+=(mimalloc)  # not -q: SIGPIPE under pipefail
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]/#mimalloc/libmimalloc2.0}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# mimalloc's package carries its soname: libmimalloc2.0 on Debian 12; the newest one the lists know
for i in "${!need[@]}"; do
  if [ "${need[$i]}" = mimalloc ]; then
    need[$i]=$(apt-cache pkgnames libmimalloc | grep -E '^libmimalloc[0-9]' | sort -V | tail -n 1)
  fi
done
apt-get install -y -q --no-install-recommends "${need[@]}"
