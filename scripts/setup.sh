#!/usr/bin/env bash
# Installs what edgenet needs when it is missing: Debian packages (as root) and
# the npm dependencies. Safe to run again: it does nothing when all is present.
#   bash scripts/setup.sh             everything: what runs edgenet, and what its tests and demo use
#   bash scripts/setup.sh --runtime   only what a production host runs (scripts/install.sh uses this)
set -euo pipefail
cd "$(dirname "$0")/.."

# What the daemons run: netd's kernel tools, dhcpd, radvd (router advertisements of a
# dual-stack cluster) and arping; openssl for `edgenet certs`; systemd-tmpfiles makes
# /run/edgenet; util-linux and passwd for install.sh.
RUNTIME_PACKAGES=(iproute2 iptables ebtables ipset isc-dhcp-server radvd bird2 genisoimage arping openssl procps systemd util-linux passwd)
# What only the tests and the demo use: dhclient and probes in instance namespaces,
# rdisc6 (ndisc6) and rdnssd to read router advertisements as a guest does, and
# cloud-init's EC2 metadata crawler, and the AWS CLI and boto3 as EC2 API clients
# edgenet did not write (tests call /usr/bin/aws and /usr/bin/python3 by path).
# Never installed on a production host.
TEST_PACKAGES=(isc-dhcp-client iputils-ping netcat-openbsd curl cloud-init ndisc6 rdnssd awscli python3-boto3 postgresql)
DEBIAN_PACKAGES=("${RUNTIME_PACKAGES[@]}")
[[ ${1:-} == --runtime ]] || DEBIAN_PACKAGES+=("${TEST_PACKAGES[@]}")

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "edgenet setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
  else
    echo "edgenet setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
# cloud-init is here only for its EC2 metadata crawler (the metadata integration
# test): never let it configure this host at its next boot.
if [[ $(id -u) -eq 0 && -d /etc/cloud && ! -e /etc/cloud/cloud-init.disabled ]]; then
  : > /etc/cloud/cloud-init.disabled
fi
# isc-dhcp-server's and radvd's packages enable system-wide services; edgenet runs its own
# dhcpd and radvd. rdnssd's would rewrite this host's resolv.conf from the RAs it hears;
# the tests run it only inside instance namespaces.
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  for unit in isc-dhcp-server radvd rdnssd; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "edgenet setup: Node.js >= 20.19 is required (found $(node --version))" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "edgenet setup: installing npm packages (better-sqlite3 may build from source: a few minutes)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
