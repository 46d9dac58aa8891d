#!/usr/bin/env bash
# Builds the processor image: the in-guest agent (a static Swift binary), then vpctl, then
# `vpctl image build`, which assembles kernel + busybox initramfs + agent into
# /var/lib/virtualplatform/images/processor (or the directory given). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
output=${1:-/var/lib/virtualplatform/images/processor}

echo "[image] building vp-agent (release, static Swift runtime)"
swift build -c release --static-swift-stdlib --product vp-agent --scratch-path .build-agent
agent="$(swift build -c release --static-swift-stdlib --product vp-agent --scratch-path .build-agent --show-bin-path)/vp-agent"

echo "[image] building vpctl"
swift build --product vpctl
vpctl="$(swift build --show-bin-path)/vpctl"

"$vpctl" image build --output "$output" --agent "$agent"
