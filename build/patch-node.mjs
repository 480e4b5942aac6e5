#!/usr/bin/env node
// Makes a copy of Node's official Linux binary (x64, arm64; Node >= 25) that
// needs no libatomic.so.1, which Debian/Ubuntu slim, distroless/cc and UBI
// images lack: an unpatched Node 26 binary does not start there at all
// (libatomic is DT_NEEDED, and BIND_NOW resolves everything at start).
//
// What Node 26.12 uses of libatomic, on x64 and arm64 alike: one symbol,
// `__atomic_compare_exchange@LIBATOMIC_1.0` (the generic one that takes the
// size), through one PLT slot (one JUMP_SLOT relocation), called from V8
// (JSDispatchTable's free list, the wasm code pointer table) with the size 8
// at every call site (8 on x64, 12 on arm64; V8 calls it about 3400 times
// in `node -e 1`): the compiler calls the library for std::atomic<T>
// whose T (two uint32s) is only 4-byte aligned as a type, while the C++
// library aligns the atomic object to its size, 8 (the arm64 implementation
// checks that, and traps if not; no start-up or test workload ever hit it).
//
// The patch (plain JS, no tool beyond Node):
//   1. the DT_NEEDED entry of libatomic.so.1 goes (the later entries move up);
//   2. its version requirement goes: the .gnu.version_r entry (rewritten
//      without it, DT_VERNEEDNUM one less), and the symbol's .gnu.version
//      index becomes 1 (unversioned); the symbol is also made WEAK, so that
//      nothing can ever make the loader require it;
//   3. a 16-byte-aligned implementation is written into the zero padding
//      after the end of the executable PT_LOAD (inside the page the loader
//      maps executable anyway; p_filesz and p_memsz grow to cover it), and
//      the symbol's JUMP_SLOT relocation becomes R_*_RELATIVE with that
//      address as addend: the loader stores the address in the GOT slot and
//      the unchanged PLT stub jumps there. (Only with BIND_NOW: a RELATIVE
//      relocation in .rela.plt is refused by lazy binding, so a binary
//      without BIND_NOW is refused here.)
// The implementation, per architecture:
//   x64: `lock cmpxchg` on 8 bytes (atomic even when misaligned); on
//     failure the current value goes to *expected, as libatomic does.
//   arm64: an ldaxr/stlxr loop (acquire and release: enough for every
//     memory order; the binary does not require LSE, so no `casal`); a
//     misaligned pointer (which the exclusive pair cannot do atomically)
//     traps with `brk`, as does any size but 8 on both (`ud2` on x64):
//     never a silent wrong answer.
// Before patching, the binary's libatomic use must be exactly that: one
// libatomic version need with one version, one symbol of it, the expected
// name, one JUMP_SLOT relocation and nothing else referring to it, no call
// through its GOT slot bypassing the PLT stub (x64), and every direct call or
// jump to the stub passing the size 8 (the nearest instruction before it that
// sets the first argument sets 8). Anything else is refused with one line.
// (A call through a pointer to the stub cannot be seen here: the traps above
// are for that.) verify() checks a binary afterwards (build.mjs runs it on
// the final SEA, after postject): no libatomic anywhere in the dynamic
// section, the one RELATIVE relocation in .rela.plt pointing at exactly
// these bytes inside the executable segment.
//
//   patch-node.mjs IN OUT     write the patched copy (IN passes unchanged if
//                             it needs no libatomic)
//   patch-node.mjs --check F  exit 0 if F is a patched binary (or needs no
//                             libatomic at all), else one line and exit 1
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const DT = { NULL: 0, NEEDED: 1, PLTRELSZ: 2, STRTAB: 5, SYMTAB: 6, RELA: 7, RELASZ: 8, JMPREL: 23, FLAGS: 30, FLAGS_1: 0x6ffffffb, VERSYM: 0x6ffffff0, VERNEED: 0x6ffffffe, VERNEEDNUM: 0x6fffffff };
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PF_X = 1;
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const DF_BIND_NOW = 0x8;
const DF_1_NOW = 0x1;
const STB_WEAK = 2;
const STT_FUNC = 2;
const LIBATOMIC = 'libatomic.so.1';
const SYMBOL = '__atomic_compare_exchange';

/** Per ELF machine: relocation types, the implementation, how a call of the PLT stub and its size argument look. */
const ARCHS = {
  62: {
    name: 'x64',
    JUMP_SLOT: 7,
    RELATIVE: 8,
    // endbr64; cmp $8,%rdi; jne trap; mov (%rdx),%rax; mov (%rcx),%r8;
    // lock cmpxchg %r8,(%rsi); sete %cl; je 1f; mov %rax,(%rdx);
    // 1: movzbl %cl,%eax; ret; trap: ud2
    code: Buffer.from('f30f1efa4883ff087517488b024c8b01f04c0fb1060f94c17403488902' + '0fb6c1c30f0b', 'hex'),
  },
  183: {
    name: 'arm64',
    JUMP_SLOT: 1026,
    RELATIVE: 1027,
    // bti c; cmp x0,#8; b.ne trap; tst x1,#7; b.ne trap; ldr x4,[x2]; ldr x5,[x3];
    // 1: ldaxr x6,[x1]; cmp x6,x4; b.ne 2f; stlxr w7,x5,[x1]; cbnz w7,1b; mov w0,#1; ret;
    // 2: clrex; str x6,[x2]; mov w0,#0; ret; trap: brk #1000
    code: Buffer.from(new Uint32Array([
      0xd503245f, 0xf100201f, 0x54000201, 0xf240083f, 0x540001c1, 0xf9400044, 0xf9400065,
      0xc85ffc26, 0xeb0400df, 0x540000a1, 0xc807fc25, 0x35ffff87, 0x52800020, 0xd65f03c0,
      0xd5033f5f, 0xf9000046, 0x52800000, 0xd65f03c0, 0xd4207d00,
    ]).buffer),
  },
};

/** The implementation's machine code per architecture (the tests run it alone). */
export const IMPLEMENTATIONS = Object.fromEntries(Object.values(ARCHS).map((a) => [a.name, a.code]));

class Refused extends Error {}
const refuse = (m) => {
  throw new Refused(m);
};

/**
 * A 64-bit little-endian ELF file's program headers (`at`: the entry's file
 * offset), or a refusal (build/entry-spawn.mjs reads them too).
 */
export function programHeaders(buf, fail = refuse) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) fail('not a 64-bit little-endian ELF file');
  if (buf.readUInt16LE(54) !== 56) fail('unexpected program header size');
  const phoff = Number(buf.readBigUInt64LE(32));
  const phnum = buf.readUInt16LE(56);
  const phdrs = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    phdrs.push({
      at: o, type: buf.readUInt32LE(o), flags: buf.readUInt32LE(o + 4), offset: Number(buf.readBigUInt64LE(o + 8)),
      vaddr: Number(buf.readBigUInt64LE(o + 16)), filesz: Number(buf.readBigUInt64LE(o + 32)), memsz: Number(buf.readBigUInt64LE(o + 40)),
    });
  }
  return { phoff, phnum, phdrs };
}

/** The parts of an ELF executable the patch reads and writes. */
function parse(buf) {
  const { phdrs } = programHeaders(buf);
  const arch = ARCHS[buf.readUInt16LE(18)];
  if (!arch) refuse(`ELF machine ${buf.readUInt16LE(18)} is not x64 or arm64`);
  const shoff = Number(buf.readBigUInt64LE(40));
  const shnum = buf.readUInt16LE(60);
  const shdrs = [];
  for (let i = 0; shoff && i < shnum; i++) {
    const o = shoff + i * 64;
    shdrs.push({ at: o, type: buf.readUInt32LE(o + 4), addr: Number(buf.readBigUInt64LE(o + 16)), size: Number(buf.readBigUInt64LE(o + 32)), flags: Number(buf.readBigUInt64LE(o + 8)) });
  }
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  const off = (vaddr) => {
    const p = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    if (!p) refuse(`address 0x${vaddr.toString(16)} is in no loaded part of the file`);
    return p.offset + (vaddr - p.vaddr);
  };
  const dynPh = phdrs.find((p) => p.type === PT_DYNAMIC) ?? refuse('no PT_DYNAMIC: not a dynamically linked executable');
  const dyn = [];
  for (let o = dynPh.offset; o < dynPh.offset + dynPh.filesz; o += 16) {
    const tag = Number(buf.readBigInt64LE(o));
    dyn.push({ at: o, tag, val: Number(buf.readBigUInt64LE(o + 8)) });
    if (tag === DT.NULL) break;
  }
  const get = (tag) => dyn.find((d) => d.tag === tag)?.val;
  const strtab = off(get(DT.STRTAB) ?? refuse('no DT_STRTAB'));
  const str = (i) => {
    const end = buf.indexOf(0, strtab + i);
    return buf.toString('latin1', strtab + i, end);
  };
  const dynsymSh = shdrs.find((s) => s.type === SHT_DYNSYM) ?? refuse('no .dynsym section header (the patch needs the symbol count)');
  const symtab = off(get(DT.SYMTAB) ?? refuse('no DT_SYMTAB'));
  const nsyms = dynsymSh.size / 24;
  const versym = get(DT.VERSYM) === undefined ? null : off(get(DT.VERSYM));
  const sym = (i) => {
    const o = symtab + i * 24;
    return { at: o, name: str(buf.readUInt32LE(o)), info: buf[o + 4], shndx: buf.readUInt16LE(o + 6), version: versym === null ? 1 : buf.readUInt16LE(versym + i * 2) };
  };
  // Version needs: [{ at, file, auxs: [{ at, name, other, raw }], raw }]
  const verneed = [];
  if (get(DT.VERNEED) !== undefined) {
    let o = off(get(DT.VERNEED));
    for (let i = 0; i < (get(DT.VERNEEDNUM) ?? 0); i++) {
      const cnt = buf.readUInt16LE(o + 2);
      const auxs = [];
      let a = o + buf.readUInt32LE(o + 8);
      for (let j = 0; j < cnt; j++) {
        auxs.push({ at: a, name: str(buf.readUInt32LE(a + 8)), other: buf.readUInt16LE(a + 6), raw: Buffer.from(buf.subarray(a, a + 16)) });
        const next = buf.readUInt32LE(a + 12);
        if (!next) break;
        a += next;
      }
      verneed.push({ at: o, file: str(buf.readUInt32LE(o + 4)), auxs, raw: Buffer.from(buf.subarray(o, o + 16)) });
      const next = buf.readUInt32LE(o + 12);
      if (!next) break;
      o += next;
    }
  }
  const relocs = (start, size) => {
    const out = [];
    for (let o = start; o < start + size; o += 24) {
      const info = buf.readBigUInt64LE(o + 8);
      out.push({ at: o, offset: Number(buf.readBigUInt64LE(o)), sym: Number(info >> 32n), type: Number(info & 0xffffffffn), addend: Number(buf.readBigInt64LE(o + 16)) });
    }
    return out;
  };
  const jmprel = get(DT.JMPREL) === undefined ? [] : relocs(off(get(DT.JMPREL)), get(DT.PLTRELSZ) ?? 0);
  const rela = get(DT.RELA) === undefined ? [] : relocs(off(get(DT.RELA)), get(DT.RELASZ) ?? 0);
  return { arch, phdrs, shdrs, loads, off, dyn, get, str, sym, nsyms, versym, verneed, jmprel, rela };
}

/** Addresses of the direct calls (and tail jumps) of the PLT stub that loads GOT slot `slot`, each with its size argument (or null). */
function callSites(buf, elf, slot) {
  const exec = elf.loads.filter((l) => l.flags & PF_X);
  const stubs = [];
  if (elf.arch.name === 'x64') {
    // jmp *disp32(%rip): ff 25, in the executable sections (.plt, .plt.sec); a call *disp32(%rip)
    // (ff 15) of the slot itself would bypass the stub and the size check below.
    for (const l of exec) {
      for (let o = l.offset; o < l.offset + l.filesz - 6; o++) {
        if (buf[o] !== 0xff || (buf[o + 1] !== 0x25 && buf[o + 1] !== 0x15)) continue;
        const next = l.vaddr + (o - l.offset) + 6;
        if (next + buf.readInt32LE(o + 2) !== slot) continue;
        if (buf[o + 1] === 0x15) refuse(`${SYMBOL} is called through its GOT slot directly at 0x${(next - 6).toString(16)}`);
        stubs.push(next - 6);
      }
    }
  } else {
    // adrp x16, page; ldr x17, [x16, #lo]
    for (const l of exec) {
      for (let o = l.offset; o < l.offset + l.filesz - 8; o += 4) {
        const adrp = buf.readUInt32LE(o);
        if (((adrp & 0x9f00001f) >>> 0) !== 0x90000010) continue;
        const ldr = buf.readUInt32LE(o + 4);
        if (((ldr & 0xffc003ff) >>> 0) !== 0xf9400211) continue;
        const pc = l.vaddr + (o - l.offset);
        const imm = ((adrp >>> 29) & 3) | (((adrp >>> 5) & 0x7ffff) << 2);
        const page = Math.floor(pc / 4096) * 4096 + ((imm << 11) >> 11) * 4096;
        if (page + ((ldr >>> 10) & 0xfff) * 8 === slot) stubs.push(pc);
      }
    }
  }
  if (stubs.length !== 1) refuse(`expected one PLT stub for ${SYMBOL}, found ${stubs.length}`);
  const stub = stubs[0];
  const sites = [];
  for (const l of exec) {
    if (elf.arch.name === 'x64') {
      for (let o = l.offset; o < l.offset + l.filesz - 5; o++) {
        if (buf[o] !== 0xe8 && buf[o] !== 0xe9) continue;
        const at = l.vaddr + (o - l.offset);
        if (at + 5 + buf.readInt32LE(o + 1) !== stub) continue;
        // mov $imm,%edi (bf imm32, no REX.B before it) within the 48 bytes before: the nearest one is the size.
        let size = null;
        for (let b = o - 5; b >= Math.max(l.offset, o - 48); b--) {
          if (buf[b] === 0xbf && buf[b - 1] !== 0x41 && buf.readUInt16LE(b + 3) === 0) {
            size = buf.readUInt32LE(b + 1);
            break;
          }
        }
        sites.push({ at, size });
      }
    } else {
      for (let o = l.offset; o < l.offset + l.filesz; o += 4) {
        const ins = buf.readUInt32LE(o);
        if ((ins & 0x7c000000) !== 0x14000000) continue; // b / bl imm26
        const at = l.vaddr + (o - l.offset);
        if (at + ((ins << 6) >> 6) * 4 !== stub) continue;
        // mov w0/x0, #imm16 (movz) within the 12 instructions before: the nearest one is the size.
        let size = null;
        for (let b = o - 4; b >= Math.max(l.offset, o - 48); b -= 4) {
          const prev = buf.readUInt32LE(b);
          if ((prev & 0x7fe0001f) === 0x52800000) {
            size = (prev >>> 5) & 0xffff;
            break;
          }
        }
        sites.push({ at, size });
      }
    }
  }
  return { stub, sites };
}

/** What the binary needs of libatomic: null when nothing, else the one thing this patch knows, or a refusal. */
function libatomicUse(buf, elf) {
  const needed = elf.dyn.filter((d) => d.tag === DT.NEEDED && elf.str(d.val) === LIBATOMIC);
  const vn = elf.verneed.filter((v) => v.file === LIBATOMIC);
  if (needed.length === 0 && vn.length === 0) return null;
  if (needed.length !== 1) refuse(`${LIBATOMIC} is needed ${needed.length} times`);
  if (vn.length !== 1 || vn[0].auxs.length !== 1) refuse(`unexpected version needs of ${LIBATOMIC}: ${vn.map((v) => v.auxs.map((a) => a.name).join(',')).join(' ') || 'none'}`);
  const versions = new Set(vn[0].auxs.map((a) => a.other));
  const syms = [];
  for (let i = 1; i < elf.nsyms; i++) {
    const s = elf.sym(i);
    if (versions.has(s.version & 0x7fff) || s.name.startsWith('__atomic_')) syms.push({ index: i, ...s });
  }
  if (syms.length !== 1 || syms[0].name !== SYMBOL) refuse(`this binary uses ${syms.map((s) => s.name).join(', ') || 'no symbol'} of ${LIBATOMIC}; the patch knows only ${SYMBOL}`);
  const s = syms[0];
  if (s.shndx !== 0 || (s.info & 0xf) !== STT_FUNC) refuse(`${SYMBOL} is not an undefined function here`);
  const refs = [...elf.rela, ...elf.jmprel].filter((r) => r.sym === s.index);
  if (refs.length !== 1 || !elf.jmprel.includes(refs[0]) || refs[0].type !== elf.arch.JUMP_SLOT) {
    refuse(`${SYMBOL} is referred to by ${refs.length} relocations (types ${refs.map((r) => r.type).join(',')}), not one JUMP_SLOT`);
  }
  const flags = elf.get(DT.FLAGS) ?? 0;
  const flags1 = elf.get(DT.FLAGS_1) ?? 0;
  if (!(flags & DF_BIND_NOW) && !(flags1 & DF_1_NOW)) refuse('the binary is not BIND_NOW (a RELATIVE relocation in .rela.plt needs it)');
  const { sites } = callSites(buf, elf, refs[0].offset);
  if (sites.length === 0) refuse(`no direct call of ${SYMBOL}'s PLT stub found`);
  const odd = sites.filter((c) => c.size !== 8);
  if (odd.length) refuse(`${SYMBOL} is called with a size other than 8 (or one not found) at ${odd.map((c) => `0x${c.at.toString(16)}`).join(', ')}`);
  return { needed: needed[0], verneed: vn[0], sym: s, reloc: refs[0], sites };
}

/** The patched copy of BUF (a new Buffer), and what was done; BUF itself if it needs no libatomic. */
export function patchNode(input) {
  const buf = Buffer.from(input);
  const elf = parse(buf);
  const use = libatomicUse(buf, elf);
  if (!use) return { buf: input, patched: false, arch: elf.arch.name };
  const { arch } = elf;

  // 3. The implementation, in the padding after the executable segment.
  const execs = elf.loads.filter((l) => l.flags & PF_X);
  if (execs.length !== 1) refuse(`expected one executable PT_LOAD, found ${execs.length}`);
  const text = execs[0];
  if (text.filesz !== text.memsz) refuse('the executable PT_LOAD has memsz != filesz');
  const start = Math.ceil((text.offset + text.filesz) / 16) * 16;
  const end = start + arch.code.length;
  const nextOffset = Math.min(...elf.phdrs.filter((p) => p.type === PT_LOAD && p.offset > text.offset).map((p) => p.offset), buf.length);
  const nextVaddr = Math.min(...elf.loads.filter((p) => p.vaddr > text.vaddr).map((p) => p.vaddr));
  const vaddr = text.vaddr + (start - text.offset);
  if (end > nextOffset || text.vaddr + (end - text.offset) > nextVaddr) refuse('no room after the executable segment for the implementation');
  if (buf.subarray(text.offset + text.filesz, end).some((b) => b !== 0)) refuse('the padding after the executable segment is not zero');
  arch.code.copy(buf, start);
  buf.writeBigUInt64LE(BigInt(end - text.offset), text.at + 32);
  buf.writeBigUInt64LE(BigInt(end - text.offset), text.at + 40);

  // The relocation: the GOT slot gets the implementation's address.
  buf.writeBigUInt64LE(BigInt(arch.RELATIVE), use.reloc.at + 8);
  buf.writeBigInt64LE(BigInt(vaddr), use.reloc.at + 16);

  // 2. The symbol: unversioned and weak (it is referred to by nothing now).
  buf[use.sym.at + 4] = (STB_WEAK << 4) | STT_FUNC;
  if (elf.versym !== null) buf.writeUInt16LE(1, elf.versym + use.sym.index * 2);
  // The version needs, rewritten in place without libatomic's.
  const keep = elf.verneed.filter((v) => v !== use.verneed);
  const first = elf.verneed[0].at;
  const table = [];
  keep.forEach((v, i) => {
    const e = Buffer.from(v.raw);
    e.writeUInt16LE(v.auxs.length, 2);
    e.writeUInt32LE(16, 8); // vn_aux: right after
    e.writeUInt32LE(i === keep.length - 1 ? 0 : 16 + v.auxs.length * 16, 12);
    table.push(e);
    v.auxs.forEach((a, j) => {
      const x = Buffer.from(a.raw);
      x.writeUInt32LE(j === v.auxs.length - 1 ? 0 : 16, 12);
      table.push(x);
    });
  });
  const bytes = Buffer.concat(table);
  const verneedEnd = Math.max(...elf.verneed.flatMap((v) => [v.at + 16, ...v.auxs.map((a) => a.at + 16)]));
  if (first + bytes.length > verneedEnd) refuse('the version needs do not fit back');
  buf.fill(0, first, verneedEnd);
  bytes.copy(buf, first);
  const vnum = elf.dyn.find((d) => d.tag === DT.VERNEEDNUM);
  buf.writeBigUInt64LE(BigInt(keep.length), vnum.at + 8);
  const vnSh = elf.shdrs.find((s) => s.type === SHT_GNU_VERNEED);
  if (vnSh) buf.writeUInt32LE(keep.length, vnSh.at + 44); // sh_info: the number of entries

  // 1. DT_NEEDED: the later entries move up over it, the last becomes DT_NULL.
  const dynEnd = elf.dyn[elf.dyn.length - 1].at + 16;
  buf.copy(buf, use.needed.at, use.needed.at + 16, dynEnd);
  buf.fill(0, dynEnd - 16, dynEnd);

  verify(buf);
  return { buf, patched: true, arch: arch.name, at: vaddr, sites: use.sites.map((s) => s.at), siteOffsets: use.sites.map((s) => elf.off(s.at)) };
}

/**
 * Throws (one line) unless BUF needs no libatomic: no DT_NEEDED or version
 * need of it, no symbol left of it, and, if it was patched, the one RELATIVE
 * relocation in .rela.plt pointing at this patch's implementation inside the
 * executable segment. Returns whether it was patched.
 */
export function verify(buf) {
  return implementation(buf) !== null;
}

/** Where BUF's built-in implementation is (file offset, address, length), null if it needs none; throws as verify() does. */
export function implementation(buf) {
  const elf = parse(buf);
  if (elf.dyn.some((d) => d.tag === DT.NEEDED && elf.str(d.val) === LIBATOMIC)) refuse(`${LIBATOMIC} is still DT_NEEDED`);
  if (elf.verneed.some((v) => v.file === LIBATOMIC || v.auxs.some((a) => a.name.startsWith('LIBATOMIC')))) refuse(`a version of ${LIBATOMIC} is still required`);
  const rel = elf.jmprel.filter((r) => r.type === elf.arch.RELATIVE);
  if (rel.length === 0) return null;
  if (rel.length !== 1) refuse(`${rel.length} RELATIVE relocations in .rela.plt, not one`);
  const text = elf.loads.find((l) => l.flags & PF_X && rel[0].addend >= l.vaddr && rel[0].addend + elf.arch.code.length <= l.vaddr + l.filesz);
  if (!text) refuse(`the implementation's address 0x${rel[0].addend.toString(16)} is outside the executable segment`);
  const at = text.offset + (rel[0].addend - text.vaddr);
  if (!buf.subarray(at, at + elf.arch.code.length).equals(elf.arch.code)) refuse(`the bytes at 0x${rel[0].addend.toString(16)} are not this patch's ${SYMBOL}`);
  for (let i = 1; i < elf.nsyms; i++) {
    const s = elf.sym(i);
    if (s.name === SYMBOL && ((s.info >> 4) !== STB_WEAK || s.version !== 1)) refuse(`${SYMBOL} is still a strong or versioned symbol`);
  }
  return { offset: at, address: rel[0].addend, length: elf.arch.code.length, arch: elf.arch.name };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [a, b] = process.argv.slice(2);
  try {
    if (a === '--check') {
      const patched = verify(fs.readFileSync(b));
      process.stdout.write(`${b}: needs no libatomic${patched ? ' (patched)' : ''}\n`);
    } else if (a && b) {
      const r = patchNode(fs.readFileSync(a));
      fs.writeFileSync(b, r.buf, { mode: 0o755 });
      process.stdout.write(r.patched
        ? `${b}: ${r.arch}, ${SYMBOL} at 0x${r.at.toString(16)}, called from ${r.sites.length} sites, libatomic no longer needed\n`
        : `${b}: ${r.arch}, needs no libatomic: copied unchanged\n`);
    } else {
      process.stderr.write('usage: patch-node.mjs IN OUT | --check FILE\n');
      process.exit(2);
    }
  } catch (e) {
    process.stderr.write(`patch-node: ${a === '--check' ? b : a}: ${e instanceof Refused ? e.message : e.stack}\n`);
    process.exit(1);
  }
}
