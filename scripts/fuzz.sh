#!/usr/bin/env bash
# Fuzzes the platform-definition loader and validator with libFuzzer for a bounded time.
#   scripts/fuzz.sh [seconds]     (default 60)
# Builds only Fuzz/PlatformLoaderFuzz (PlatformModel + Yams) with -sanitize=fuzzer,address (release, as shipped) in its own
# scratch path, starts from Fuzz/corpus and platform-config (never modified: new inputs go to a temporary
# directory), and
# fails on a crash, a trap, a memory error, an input that takes more than 10 s (a hang: the alias-bomb
# kind) or more than 2 GiB. The failing input is saved under .build-fuzz/artifacts/; replay it with
# `swift run PlatformLoaderFuzz FILE`, then add it to Fuzz/corpus (FuzzCorpusTests replays the corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
seconds=${1:-60}

swift build -c release --scratch-path .build-fuzz --product PlatformLoaderFuzz \
    --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING
fuzzer=$(swift build -c release --scratch-path .build-fuzz --show-bin-path)/PlatformLoaderFuzz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/artifacts
# detect_leaks=0: the Swift runtime keeps caches for the life of the process, which is not a leak.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -detect_leaks=0 \
    -dict=Fuzz/yaml.dict -artifact_prefix=.build-fuzz/artifacts/ -print_final_stats=1 "$work" Fuzz/corpus platform-config
echo "[fuzz] ${seconds} s of fuzzing found nothing"
