#!/usr/bin/env bash
# Installs, upgrades or removes edgenet on this host, from this repository.
#
#   bash scripts/install.sh                      install or upgrade
#   bash scripts/install.sh --uninstall          remove the program, units and service files
#   bash scripts/install.sh --uninstall --purge  ... and /etc/edgenet, /var/lib/edgenet, the user
#
# What an install puts where (every host gets the same; the units decide what runs):
#   /opt/edgenet/                  the program with its node_modules (replaced whole on upgrade)
#   /usr/local/bin/edgenet         the command
#   /etc/systemd/system/edgenet-{clc,cc,nc,netd}.service
#   /usr/lib/tmpfiles.d/edgenet.conf, /etc/modules-load.d/edgenet.conf
#   /etc/edgenet/*.conf            example configs, only where none exists (an upgrade
#                                  writes the new example beside it as *.conf.dist)
#   /etc/edgenet/certs/            root:edgenet 0750, for ca.crt and this host's key pair
#   user and group `edgenet`       (system, no login) for clc, cc and nc
#   /var/lib/edgenet/{clc,cc}      edgenet 0700; /run/edgenet edgenet:edgenet 3770 (setgid, sticky)
#
# An upgrade keeps configs, certificates and the database; running units are restarted.
# Needs root and, the first time, the runtime packages (it runs scripts/setup.sh --runtime).
# Nothing is downloaded beyond what setup.sh fetches: the program is copied from here.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

prefix=/opt/edgenet
uninstall=0
purge=0
usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    --prefix) prefix=${2:?--prefix needs a directory}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root" >&2
  exit 1
fi
if [[ $prefix != /* ]]; then
  echo "install.sh: --prefix must be an absolute path" >&2
  exit 2
fi

UNITS=(edgenet-clc edgenet-cc edgenet-nc edgenet-netd)
unit_dir=/etc/systemd/system
bin=/usr/local/bin/edgenet
tmpfiles=/usr/lib/tmpfiles.d/edgenet.conf
modules=/etc/modules-load.d/edgenet.conf
systemd_running() { [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; }
say() { echo "edgenet install: $*" >&2; }

if ((uninstall)); then
  if systemd_running; then
    for u in "${UNITS[@]}"; do systemctl disable --now "$u.service" >/dev/null 2>&1 || true; done
  fi
  # netd leaves dhcpd serving when it stops (KillMode=process); flush removes it with
  # every other edgenet artifact on a node. Only where this host ran netd.
  if [[ -x $bin && -f /etc/edgenet/netd.conf && -d /run/edgenet/netd ]]; then
    "$bin" netd flush --config /etc/edgenet/netd.conf || say "netd flush failed; see above"
  fi
  for u in "${UNITS[@]}"; do rm -f "$unit_dir/$u.service"; done
  rm -f "$bin" "$tmpfiles" "$modules"
  rm -rf "$prefix" "$prefix.new" "$prefix.old"
  systemd_running && systemctl daemon-reload || true
  if ((purge)); then
    rm -rf /etc/edgenet /var/lib/edgenet /run/edgenet
    getent passwd edgenet >/dev/null && userdel edgenet
    getent group edgenet >/dev/null && groupdel edgenet
    say "removed edgenet, its configuration, state and user"
  else
    say "removed edgenet; kept /etc/edgenet and /var/lib/edgenet (--purge removes them)"
  fi
  exit 0
fi

bash scripts/setup.sh --runtime
systemctl_bin=$(command -v systemctl || true)
# Debian's bird2 package enables its own bird.service with a default configuration
# whose kernel protocols treat every `proto bird` route as theirs: next to the BIRD
# netd supervises on a ROUTED node it would delete the default routes that one
# learned. Stop it, but only while its configuration is the package's untouched
# default (a BIRD the admin configured is theirs; docs/netd.md says what to do then).
if systemd_running && systemctl is-enabled --quiet bird.service 2>/dev/null; then
  if dpkg --verify bird2 2>/dev/null | grep -q ' /etc/bird/bird.conf$'; then
    say "bird.service runs an edited /etc/bird/bird.conf: left alone; on a ROUTED node its kernel protocols must not touch 'proto bird' routes (docs/netd.md)"
  else
    systemctl disable --now bird.service >/dev/null 2>&1 && say "disabled Debian's default bird.service (netd runs its own BIRD on ROUTED nodes)"
  fi
fi
node_bin=$(command -v node)
if [[ $node_bin != /usr/bin/node ]]; then
  say "node is $node_bin (not /usr/bin/node): the units will use that path"
fi
version=$(node -p 'require("./package.json").version')
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)

# The program: copied to a staging directory, trimmed to what runs, then swapped in,
# so a failed copy leaves the installed version untouched.
stage=$prefix.new
rm -rf "$stage"
mkdir -p "$stage"
cp -a bin src schemas wsdl examples deploy docs package.json package-lock.json README.md node_modules "$stage/"
(cd "$stage" && npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
# The daemons report this commit in edgenet_build_info and /healthz (src/shared/build-info.ts).
[[ $commit == unknown ]] || printf '%s\n' "$commit" >"$stage/BUILD_COMMIT"
chown -R root:root "$stage"
chmod -R go-w "$stage"
if [[ -d $prefix ]]; then
  rm -rf "$prefix.old"
  mv "$prefix" "$prefix.old"
fi
mv "$stage" "$prefix"
rm -rf "$prefix.old"

install -d -m 0755 "$(dirname "$bin")"
cat >"$bin.tmp" <<EOF
#!/bin/sh
# edgenet $version ($commit), installed by scripts/install.sh
exec $node_bin $prefix/bin/edgenet.mjs "\$@"
EOF
chmod 0755 "$bin.tmp"
mv "$bin.tmp" "$bin"

# The service user: clc, cc and nc run as it; netd runs as root in its group.
getent group edgenet >/dev/null || groupadd --system edgenet
getent passwd edgenet >/dev/null ||
  useradd --system --gid edgenet --home-dir /var/lib/edgenet --no-create-home --shell /usr/sbin/nologin \
    --comment 'edgenet daemons' edgenet

install -d -m 0750 -o root -g edgenet /etc/edgenet /etc/edgenet/certs
for conf in clc cc nc netd; do
  target=/etc/edgenet/$conf.conf
  if [[ -e $target ]]; then
    if ! cmp -s "examples/$conf.conf" "$target"; then
      install -m 0640 -o root -g edgenet "examples/$conf.conf" "$target.dist"
    fi
  else
    install -m 0640 -o root -g edgenet "examples/$conf.conf" "$target"
  fi
done
[[ -e /etc/edgenet/network.json ]] ||
  install -m 0640 -o root -g edgenet examples/network_configuration.json /etc/edgenet/network.json.example

install -d -m 0755 /var/lib/edgenet
install -d -m 0700 -o edgenet -g edgenet /var/lib/edgenet/clc /var/lib/edgenet/cc

install -d -m 0755 "$(dirname "$tmpfiles")" "$(dirname "$modules")" "$unit_dir"
install -m 0644 deploy/tmpfiles.d/edgenet.conf "$tmpfiles"
install -m 0644 deploy/modules-load.d/edgenet.conf "$modules"
if command -v systemd-tmpfiles >/dev/null 2>&1; then
  systemd-tmpfiles --create "$tmpfiles"
else
  install -d -m 3770 -o edgenet -g edgenet /run/edgenet
fi
modprobe br_netfilter 2>/dev/null || say "could not load br_netfilter now; it loads at boot ($modules)"

for u in "${UNITS[@]}"; do
  sed -e "s#/opt/edgenet#$prefix#g" -e "s#/usr/bin/node #$node_bin #" "deploy/systemd/$u.service" >"$unit_dir/$u.service.tmp"
  chmod 0644 "$unit_dir/$u.service.tmp"
  mv "$unit_dir/$u.service.tmp" "$unit_dir/$u.service"
done
if systemd_running; then
  "$systemctl_bin" daemon-reload
  for u in "${UNITS[@]}"; do "$systemctl_bin" try-restart "$u.service"; done
fi
say "installed edgenet $version ($commit) in $prefix; command $bin; units in $unit_dir"
say "next: edit /etc/edgenet/<daemon>.conf, install the certificates, then systemctl enable --now <unit>"
