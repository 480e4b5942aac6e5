/**
 * Imports go one way. Each folder of src/ (and each top-level file) has a
 * layer; a module may import from its own folder or from a lower layer only.
 * Checked over the real import graph (static and lazy `require` imports).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Lowest first. `texts` is the version, usage and LICENSE text: a leaf. */
const LAYERS: string[][] = [
  ['util', 'libc', 'texts', 'types'],
  ['log'],
  ['events', 'cgroup'],
  ['supervisor'],
  ['cli'],
  ['runtime'],
  // The container lifecycle (create, start, wait, destroy) over the runtime's pieces; the verbs and `run` call it.
  ['container'],
  ['check', 'commands'],
  ['init', 'modes', 'preamble'],
  ['main', 'init-main', 'run-init-main', 'early-main'],
];
const layerOf = (unit: string): number => LAYERS.findIndex((l) => l.includes(unit));

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const unitOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0].replace(/\.ts$/, '');

function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+['"](\.[^'"]+)['"]|require\(['"](\.[^'"]+)['"]\)|import\(['"](\.[^'"]+)['"]\)/g)) {
    const spec = m[1] ?? m[2] ?? m[3];
    out.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** What loading FILE loads at once: its static value imports, transitively (`import type` is erased, `require` in a function waits for its call). */
function loadedWith(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)(?:import|export)(?!\s+type\b)[^'";]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(f), m[1]).replace(/\.js$/, '.ts');
      if (target.startsWith(SRC + path.sep) && target.endsWith('.ts')) visit(target);
    }
  };
  visit(file);
  return seen;
}

describe('the import graph', () => {
  const all = files(SRC);

  it('every folder has a layer', () => {
    expect(all.map(unitOf).filter((u) => layerOf(u) < 0)).toEqual([]);
  });

  it('imports go one way: own folder or a lower layer', () => {
    const upward: string[] = [];
    for (const f of all) {
      for (const target of imports(f)) {
        if (!target.startsWith(SRC + path.sep)) continue; // LICENSE and the like
        const [from, to] = [unitOf(f), unitOf(target)];
        if (from !== to && layerOf(to) >= layerOf(from)) upward.push(`${path.relative(SRC, f)} -> ${path.relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('an OCI verb is a Node start of its own: the front door and start, state, kill, delete load neither the runtime nor the other verbs', () => {
    const oci = path.join(SRC, 'commands/oci');
    const heavy = ['commands/run.ts', 'container/create.ts', 'runtime/container.ts', 'runtime/ns-init.ts', 'commands/oci/create.ts', 'commands/oci/exec.ts'];
    for (const f of ['index.ts', 'start.ts', 'state.ts', 'kill.ts', 'delete.ts']) {
      const loaded = [...loadedWith(path.join(oci, f))].map((x) => path.relative(SRC, x));
      expect(loaded.filter((x) => heavy.includes(x)), f).toEqual([]);
    }
  });

  it("node:os is loaded on first use on the paths to a workload: `run`, both inits (an import costs each process about 0.5 ms at start)", () => {
    const entries = ['init-main.ts', 'run-init-main.ts', 'commands/run.ts', 'commands/oci/create.ts'];
    for (const e of entries) {
      const importers = [...loadedWith(path.join(SRC, e))].filter((f) => /(?:^|\n)import(?!\s+type\b)[^'";]*?from\s+['"](node:)?os['"]/.test(fs.readFileSync(f, 'utf8')));
      expect(importers.map((f) => path.relative(SRC, f)), e).toEqual([]);
    }
  });

  it('no module imports itself back through others (no cycles between files)', () => {
    const graph = new Map(all.map((f) => [f, imports(f).filter((t) => all.includes(t))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(SRC, x)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
