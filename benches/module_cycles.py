#!/usr/bin/env python3
# Import cycles between the top-level modules of src/ (usage: python3 benches/module_cycles.py src).
"""Top-level module graph of src/ from `crate::X` references (use lines and paths), and its
cycles (strongly connected components and the 2-cycles among them)."""
import os, re, sys, itertools
DEPTH = int(os.environ.get('DEPTH', '1'))
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = set()
for f in os.listdir(root):
    if f.endswith('.rs') and f not in ('lib.rs', 'main.rs'): mods.add(f[:-3])
    elif os.path.isdir(os.path.join(root, f)): mods.add(f)
edges = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        path = os.path.join(dp, f)
        rel = os.path.relpath(path, root)
        top = rel.split(os.sep)[0]
        top = top[:-3] if top.endswith('.rs') else top
        if top not in mods: continue
        text = open(path).read()
        # drop test modules: everything after #[cfg(test)]
        i = text.find('#[cfg(test)]')
        if i >= 0: text = text[:i]
        text = re.sub(r'//[^\n]*', '', text)
        for m in re.finditer(r'crate::([a-z_]+)', text):
            t = m.group(1)
            if t in mods and t != top:
                edges.setdefault(top, {}).setdefault(t, set()).add(rel)
        # `use crate::{a, b::c}` groups
        for m in re.finditer(r'crate::\{([^}]*)\}', text):
            for part in m.group(1).split(','):
                t = part.strip().split('::')[0]
                if t in mods and t != top:
                    edges.setdefault(top, {}).setdefault(t, set()).add(rel)
pairs = []
for a in sorted(edges):
    for b in sorted(edges[a]):
        if a < b and a in edges.get(b, {}):
            pairs.append((a, b))
# SCCs (Tarjan)
idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, {}):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(mods):
    if v not in idx: sc(v)
print(f"two-way pairs: {len(pairs)}")
for a, b in pairs:
    print(f"  {a} <-> {b}")
    print(f"     {a}->{b}: {sorted(edges[a][b])[:6]}")
    print(f"     {b}->{a}: {sorted(edges[b][a])[:6]}")
print(f"strongly connected groups: {len(sccs)}")
for s in sccs: print("  ", " ".join(s))
