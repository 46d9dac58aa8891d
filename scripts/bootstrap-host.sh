#!/usr/bin/env bash
# Takes a fresh Debian 12 machine to a working libvirt/QEMU host for VirtualPlatform.
# Idempotent: run it as often as you like; it says what it did and skips what is already done.
#
# - installs the Debian packages the platform needs (libvirt, QEMU, dnsmasq, nftables and conntrack,
#   the guest kernel and busybox for the processor image) and the benchmarks' peers (wrk, HAProxy,
#   nginx);
# - turns on IPv4 forwarding (service IPs are routed by the host);
# - without systemd, creates what the packages leave out (users, groups, directories) and starts
#   virtlogd and libvirtd itself; with systemd, asks the service manager instead;
# - waits until the libvirt socket answers.
set -euo pipefail

say() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0)"

PACKAGES=(
  libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  qemu-system-x86 qemu-utils dnsmasq-base iproute2 iptables
  nftables libnftables-dev conntrack
  wrk haproxy nginx-light
  linux-image-amd64 busybox-static e2fsprogs xz-utils binutils
  pkg-config curl libsqlite3-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "packages already installed"
fi

socket=/var/run/libvirt/libvirt-sock

if [ -d /run/systemd/system ]; then
  say "systemd runs this machine: enabling virtlogd and libvirtd through it"
  systemctl enable --now virtlogd.socket libvirtd.socket libvirtd.service >/dev/null
else
  # What the packages' maintainer scripts leave out when no service manager runs.
  for g in kvm libvirt-qemu libvirt; do
    getent group "$g" >/dev/null || { groupadd --system "$g"; say "created group $g"; }
  done
  if ! getent passwd libvirt-qemu >/dev/null; then
    useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
      --gid libvirt-qemu --groups kvm libvirt-qemu
    say "created user libvirt-qemu"
  fi
  mkdir -p /var/log/libvirt/qemu /var/lib/libvirt /run/libvirt /var/cache/libvirt
  # A daemon keeps every descriptor it is started with: one holding a lock of whoever ran this
  # script (`flock FILE scripts/up.sh`) would hold that lock for as long as libvirtd runs.
  daemon() { ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@" ); }
  if ! pgrep -x virtlogd >/dev/null; then
    daemon virtlogd -d
    say "started virtlogd"
  fi
  if ! pgrep -x libvirtd >/dev/null; then
    rm -f "$socket"
    daemon libvirtd -d
    say "started libvirtd"
  fi
fi

for _ in $(seq 1 100); do
  [ -S "$socket" ] && virsh -q -c qemu:///system version >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -q -c qemu:///system version >/dev/null 2>&1 || die "libvirtd did not answer on $socket (see /var/log/libvirt/libvirtd.log)"
say "libvirt answers at qemu:///system ($(virsh -c qemu:///system version 2>/dev/null | sed -n 's/^Running hypervisor: //p'))"

# Service IPs: the host routes their connections to the processors.
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "1" ]; then
  echo 1 > /proc/sys/net/ipv4/ip_forward
  say "enabled IPv4 forwarding (service IPs are routed by this host)"
fi

# Processors before the host's other work: libvirt puts every guest in one cgroup ("machine"),
# whose default weight is one process's, so on a busy host all processors starve together
# (heartbeats late, failovers slow). Give the guests 4 processes' worth per core (vpctl doctor
# checks it). libvirt keeps a group that already exists.
cores=$(nproc)
if [ -d /run/systemd/system ]; then
  systemctl set-property machine.slice CPUWeight=$(( 100 * 4 * cores > 10000 ? 10000 : 100 * 4 * cores ))
  say "machine.slice CPUWeight set for the processors"
elif [ -d /sys/fs/cgroup/cpu ]; then
  mkdir -p /sys/fs/cgroup/cpu/machine
  echo $(( 1024 * 4 * cores )) > /sys/fs/cgroup/cpu/machine/cpu.shares
  say "processors' cgroup weight: cpu.shares $(cat /sys/fs/cgroup/cpu/machine/cpu.shares) (one process: 1024)"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/machine
  echo $(( 100 * 4 * cores > 10000 ? 10000 : 100 * 4 * cores )) > /sys/fs/cgroup/machine/cpu.weight 2>/dev/null \
    && say "processors' cgroup weight: cpu.weight $(cat /sys/fs/cgroup/machine/cpu.weight) (one process: 100)" \
    || say "warning: the cpu controller is not enabled for /sys/fs/cgroup/machine; processors keep the default weight"
fi

mkdir -p /var/lib/virtualplatform
say "host ready"
