#!/usr/bin/env python3
"""check-layers.py — the layering rule of DESIGN.md, checked on every include.

Imports point down: cli -> api -> cluster -> engine -> core, and
connectors / transforms -> engine -> core. core knows nothing above it, the
engine knows no cluster, API or CLI, transforms and connectors never include
each other, and only the cluster talks to Raft. net/ (the one HTTP server) is
a library beside core that connectors, the cluster and the API may use;
registry/ binds type names to connectors and transforms, above both.

    scripts/check-layers.py [SRC_DIR]     (default: src next to this script)

Prints one line per violation (FILE:LINE: what crosses which way) and exits 1
if there is any; a directory of SRC_DIR missing from LAYERS is a violation
too, so a new room gets its place in the table before it gets code. Header
include cycles are reported as well.
"""
import os
import re
import sys

# directory -> the directories its files may include ("" = its own only)
LAYERS = {
    "core": {"core"},
    "net": {"core", "net"},
    "engine": {"core", "engine"},
    "sql": {"core", "engine", "sql"},
    "transforms": {"core", "engine", "transforms"},
    "connectors": {"core", "net", "engine", "connectors"},
    "registry": {"core", "engine", "connectors", "transforms", "registry", "sql"},
    "cluster": {"core", "net", "engine", "cluster"},
    "api": {"core", "net", "engine", "connectors", "transforms", "registry", "cluster", "api", "sql"},
    "cli": {"core", "net", "engine", "connectors", "transforms", "registry", "cluster", "api", "cli", "sql"},
}
# system headers only some layers may include
SYSTEM_ONLY = [
    (re.compile(r"^raft(\.h|/)"), {"cluster"}, "Raft belongs to the cluster layer"),
]

QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ANGLED = re.compile(r"^\s*#\s*include\s+<([^>]+)>")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "src")
    src = os.path.normpath(src)
    problems = []
    graph = {}  # header path (relative to src) -> headers it includes
    files = 0
    for d in sorted(os.listdir(src)):
        full = os.path.join(src, d)
        if not os.path.isdir(full):
            continue
        if d not in LAYERS:
            problems.append(f"src/{d}/: a directory the layer table does not know: "
                            f"add it to LAYERS in scripts/check-layers.py")
            continue
        for name in sorted(os.listdir(full)):
            if not name.endswith((".c", ".h")):
                continue
            files += 1
            rel = f"{d}/{name}"
            deps = graph.setdefault(rel, set())
            with open(os.path.join(full, name), encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = QUOTED.match(line)
                    if m:
                        inc = m.group(1)
                        top = inc.split("/")[0] if "/" in inc else d
                        target = inc if "/" in inc else f"{d}/{inc}"
                        deps.add(target)
                        if top not in LAYERS.get(d, set()):
                            problems.append(f"src/{rel}:{lineno}: {d}/ includes {inc}: "
                                            f"{d} may include only {', '.join(sorted(LAYERS[d]))}")
                        continue
                    m = ANGLED.match(line)
                    if m:
                        for pat, allowed, why in SYSTEM_ONLY:
                            if pat.match(m.group(1)) and d not in allowed:
                                problems.append(f"src/{rel}:{lineno}: {d}/ includes <{m.group(1)}>: {why}")
    # include cycles among files (headers including each other)
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                problems.append("include cycle: " + " -> ".join(f"src/{c}" for c in cyc))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    for p in problems:
        print(p)
    print(f"check-layers: {files} files, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
