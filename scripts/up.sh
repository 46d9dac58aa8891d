#!/usr/bin/env bash
# From a fresh machine to a running processor: sets up the host, builds the processor image and
# vpctl, checks the host, and boots one processor from the image on its own network.
# (Once platform definitions exist, this brings up platform-config/demo.yaml instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

scripts/bootstrap-host.sh
scripts/build-image.sh
vpctl=$(swift build --show-bin-path)/vpctl
"$vpctl" doctor
"$vpctl" image boot --remove >/dev/null
"$vpctl" image boot
