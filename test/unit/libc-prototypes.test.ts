/**
 * The libc groups declare most C functions on their first call (lazyFunc), so
 * a prototype koffi cannot parse, or a symbol libc lacks, would only show on
 * a rare path. Here every one is declared at once, against the real libc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKoffi } from '../../src/libc/koffi-native.js';

const LIBC_DIR = path.resolve(import.meta.dirname, '../../src/libc');

describe('lazily declared C functions', () => {
  it('every prototype parses and names a symbol of libc', () => {
    const decls = fs.readdirSync(LIBC_DIR).flatMap((f) => [...fs.readFileSync(path.join(LIBC_DIR, f), 'utf8').matchAll(/lazyFunc\(c, '([^']+)'\)/g)].map((m) => m[1]));
    expect(decls.length).toBeGreaterThan(50);
    const c = loadKoffi().load('libc.so.6');
    const failures = decls.flatMap((d) => {
      try {
        c.func(d);
        return [];
      } catch (e) {
        return [`${d}: ${(e as Error).message}`];
      }
    });
    expect(failures).toEqual([]);
  });
});
