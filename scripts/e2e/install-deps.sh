#!/usr/bin/env bash
# install-deps.sh — installs, as root, what the end-to-end lane needs from Debian 12 packages:
#   ceph-mon ceph-osd radosgw ceph-common   Ceph 16.2 "pacific" (the RADOS Gateway backend)
#   awscli                                   aws-cli v2 at /usr/bin/aws
#   python3-boto3                            boto3 for /usr/bin/python3
#   openssl                                  self-signed certificates for the HTTPS cases
#   curl                                     the health checks in ceph-rgw.sh
# Idempotent and fast when everything is present: apt is touched only for missing packages,
# and `apt-get update` runs at most once per invocation.
set -euo pipefail

PACKAGES=(ceph-mon ceph-osd radosgw ceph-common awscli python3-boto3 openssl curl)

log() { printf '[e2e-deps %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  log "all present: ${PACKAGES[*]}"
  exit 0
fi

if [[ $(id -u) != 0 ]]; then
  log "missing ${missing[*]} and not root: run this script as root"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)
log "installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" >/dev/null
log "installed in $(($(date +%s) - started))s"

# Facts the lane relies on; fail loudly here rather than obscurely in a test.
/usr/bin/aws --version 2>&1 | grep -q '^aws-cli/2\.' || { log "/usr/bin/aws is not aws-cli v2"; exit 1; }
/usr/bin/python3 -c 'import boto3' || { log "boto3 not importable by /usr/bin/python3"; exit 1; }
command -v radosgw >/dev/null || { log "radosgw not on PATH"; exit 1; }
