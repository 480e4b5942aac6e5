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
  ['runtime', 'container'],
  ['check', 'commands'],
  ['init', 'modes'],
  ['main'],
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
