#!/usr/bin/env bash
# Checks that every target of Package.swift imports exactly what it declares: a module imported
# but not declared (it builds only because another dependency brings it along) and a dependency
# declared but never imported are both errors, named with the target and the module.
#
# The manifest is read with `swift package dump-package` (from a scratch directory of its own, so
# that it does not wait for a build holding .build). A product dependency provides the module of
# its name (true of every product this package uses). Modules of the toolchain and the system
# (Foundation, Glibc, Testing, …) are not dependencies. `@testable` imports count like others.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
swift package --scratch-path "$scratch" dump-package > "$scratch/package.json"

python3 - "$scratch/package.json" <<'EOF'
import json, os, re, sys

TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking",
    "FoundationXML", "CoreFoundation", "Dispatch", "Glibc", "Musl", "Darwin", "Android", "WinSDK",
    "Swift", "_Concurrency", "_StringProcessing", "RegexBuilder", "Synchronization", "Observation",
    "Distributed", "Testing", "XCTest", "os",
}
# import [attributes] [kind] Module[.Submodule]
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?(\w+)")

package = json.load(open(sys.argv[1]))
targets = package["targets"]
local = {t["name"] for t in targets}

def declared(target):
    names = set()
    for dep in target["dependencies"]:
        kind, value = next(iter(dep.items()))
        names.add(value[0])   # byName / target: [name, condition]; product: [name, package, …]
    return names

def directory(target):
    if target.get("path"):
        return target["path"]
    return os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])

def imports(target):
    root = directory(target)
    excluded = [os.path.normpath(os.path.join(root, e)) for e in target.get("exclude", [])]
    found = {}
    for folder, _, files in os.walk(root):
        if any(os.path.normpath(folder).startswith(e) for e in excluded):
            continue
        for file in sorted(files):
            if not file.endswith(".swift"):
                continue
            path = os.path.join(folder, file)
            for number, line in enumerate(open(path, encoding="utf-8"), 1):
                match = IMPORT.match(line)
                if match and match.group(1) not in TOOLCHAIN:
                    found.setdefault(match.group(1), f"{path}:{number}")
    return found

problems = []
for target in targets:
    if target["type"] in ("system", "binary", "plugin", "macro"):
        continue
    has, wants = declared(target), imports(target)
    name = target["name"]
    for module, where in sorted(wants.items()):
        if module == name:
            continue
        if module not in has:
            origin = "a target of this package" if module in local else "a product of a dependency"
            problems.append(f"{name}: imports {module} ({origin}, {where}) but does not declare it in Package.swift")
    # A target without Swift sources (C code) uses its dependencies from C; nothing to compare.
    if not wants and not any(f.endswith(".swift") for _, _, fs in os.walk(directory(target)) for f in fs):
        continue
    for module in sorted(has - set(wants)):
        problems.append(f"{name}: declares {module} in Package.swift but no file of it imports {module}")

for problem in problems:
    print(problem, file=sys.stderr)
if problems:
    print(f"check-imports: {len(problems)} problem{'s' if len(problems) != 1 else ''} in Package.swift", file=sys.stderr)
    sys.exit(1)
print(f"check-imports: the imports of all {len(targets)} targets match Package.swift")
EOF
