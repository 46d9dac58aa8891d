#!/usr/bin/env bash
# Builds the processor image: the in-guest agent (a static Swift binary), then vpctl, then
# `vpctl image build`, which assembles kernel + busybox initramfs + agent into
# /var/lib/virtualplatform/images/processor (or the directory given). Idempotent.
#
#   scripts/build-image.sh [OUTPUT-DIR] [more `vpctl image build` options, e.g. --compression gzip]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
output=/var/lib/virtualplatform/images/processor
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then output=$1; shift; fi

# The agent gets its own scratch path: its flags (release, static stdlib) differ from the debug
# build's, and sharing .build would make each build undo the other.
echo "[image] building vp-agent (release, static Swift runtime)"
swift build -c release --static-swift-stdlib --product vp-agent --scratch-path .build-agent
agent="$(swift build -c release --static-swift-stdlib --product vp-agent --scratch-path .build-agent --show-bin-path)/vp-agent"

echo "[image] building vpctl"
swift build --product vpctl
vpctl="$(swift build --show-bin-path)/vpctl"

echo "[image] $vpctl image build --output $output --agent $agent $*"
"$vpctl" image build --output "$output" --agent "$agent" "$@"
