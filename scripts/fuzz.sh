#!/usr/bin/env bash
# Fuzzes the platform-definition loader and validator with libFuzzer for a bounded time.
#   scripts/fuzz.sh [seconds]     (default 60)
# Builds only Fuzz/PlatformLoaderFuzz (PlatformModel + Yams) with -sanitize=fuzzer,address in its own
# scratch path (debug: with -c release the Swift code was built without coverage counters, so libFuzzer
# saw only libyaml), starts from Fuzz/corpus and platform-config (never modified: new inputs go to a
# temporary directory), and fails on a crash, a trap, a memory error, an input that takes more than
# 60 s (a hang: the alias bomb took minutes; the largest input within the loader's limits takes a few
# seconds in this build) or more than 2 GiB. The failing input is saved under .build-fuzz/artifacts/;
# replay it with `swift run PlatformLoaderFuzz FILE`, then add it to Fuzz/corpus (FuzzCorpusTests
# replays the corpus on every `swift test`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
seconds=${1:-60}

swift build --scratch-path .build-fuzz --product PlatformLoaderFuzz \
    --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING
fuzzer=$(swift build --scratch-path .build-fuzz --show-bin-path)/PlatformLoaderFuzz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/artifacts
# detect_leaks=0: the Swift runtime keeps caches for the life of the process, which is not a leak.
"$fuzzer" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -max_len=65536 -detect_leaks=0 \
    -dict=Fuzz/yaml.dict -artifact_prefix=.build-fuzz/artifacts/ -print_final_stats=1 "$work" Fuzz/corpus platform-config
echo "[fuzz] ${seconds} s of fuzzing found nothing"
