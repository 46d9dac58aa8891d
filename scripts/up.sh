#!/usr/bin/env bash
# From a fresh machine to a running platform: sets up the host, builds the processor image and
# vpctl, checks the host, and brings up platform-config/demo.yaml (or the file given).
# Idempotent: run it again and the platform is converged, not duplicated.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
definition=${1:-platform-config/demo.yaml}

scripts/bootstrap-host.sh
scripts/build-image.sh
swift build --product vpctl
ln -sf "$(swift build --show-bin-path)/vpctl" /usr/local/bin/vpctl
echo "[up] vpctl is installed at /usr/local/bin/vpctl"

vpctl doctor
vpctl apply -f "$definition"
vpctl status -f "$definition"
