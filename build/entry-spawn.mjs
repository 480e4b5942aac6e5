#!/usr/bin/env node
// Puts build/entry-spawn.c (machine code, x64) into the single-executable
// binary as its entry point: for `tini-ts run` as root it spawns the
// container's init before Node starts, so that the launcher's and the init's
// Node starts run side by side (the C file says how, and
// src/container/entry-spawn.ts how the launcher claims it).
//
// The patch, on the final binary (after postject, which rewrites the file):
//   - the code goes into a PT_LOAD of its own (read, execute) appended to the
//     file at a page above every other segment; its program header takes a
//     free entry of the table (postject leaves room; checked to be zero);
//   - the launcher's slot (32 bytes) is the end of .bss, grown by that much
//     inside the page the loader maps for it already;
//   - the code's first 24 bytes are its header: "TINITSE1", the slot's
//     address and Node's own entry point, where the code jumps when done;
//   - e_entry becomes the code's entry, right after the header.
// Only a non-PIE x64 executable (Node's official Linux binary is one): the
// header holds absolute addresses. Anything else is refused with one line.
//
//   entry-spawn.mjs --assemble   compile entry-spawn.c (gcc, ld, objcopy) and
//                                print the bytes' hex, which CODE below holds
//                                (test/unit/entry-spawn.test.ts compares them)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { programHeaders } from './patch-node.mjs';

/** entry-spawn.c, compiled by --assemble (gcc 12.2, Debian 12). */
export const CODE = Buffer.from(
  [
    '54494e495453453100000000000000000000000000000000f30f1efa4889e75257e83f0200005f5a4889fcff25dfffff',
    'ff31c08a14078a0c0684d2740748ffc038ca74ef31c038ca0f94c0c331c08a140684d2740c48ffc03a5407ff74f031c0',
    'c38a140784d20f94c080fa3d0f94c209d00fb6c0c341554189f8b90800000031c041544189d131d255bd0d0000005389',
    'f34883ec30488d7c24a8488d7424a8f3abbf0100000041ba080000004889e80f0548ffc74883ff4175ec31c9bd020000',
    '00488d742488b80e00000048894c24884889ef0f054531d2b86d0000004889d74889d60f05b90a000000488d7c24c8b8',
    '10010000488d35e5040000f3a5bf000000404889d60f054885c04889c24c8d6c24c80f8525010000b829000000be0200',
    '08004889ef0f054889c74885c00f880a01000041bc10000000be138900004c89ea4c89e00f054885c00f85ee00000066',
    '834c24d801be148900004c89e00f054885c00f85d5000000b8b4010000bf03000000beffffffffba040000000f054889',
    'c24885c00f85b30000004963f8b8480000004889ee0f054885c00f859d000000c64424a700b90a000000bf0a00000044',
    '89c0488d74249c99f7ff83c23088540c9c4489c24189c04889c848ffc983fa097fdd4898ba00000000488d0d68030000',
    '4801c6488d05ec03000085db48894c24f84889442410488d05c0030000488d0d4c030000480f44c248897424084531d2',
    '488d54249048890c24488d7424f8488d3d36030000488944241831c048894424204889442490b83b0000000f05b80100',
    '00004963f94531d2488d351b0300004889c20f0531d2b83c000000bf7f0000004889d60f05833f010f8ed90200005349',
    '89f9488d35f30200004531c04883ec10488b7f10e8a8fdffff85c00f85e0000000498b41084989c28a1084d2740c48ff',
    'c080fa2f4c0f44d0ebee488d35bf020000e87bfdffff4189c04585c07560418a0284c0742c3c72498d4201750e41807a',
    '0175750741807a026e74054989c2ebde4531c041807a03634989c2410f94c0ebc8803f2d752831c0807f012d488d3571',
    '02000041b8010000000f94c0488d7c0701e836fdffff85c00f84b90100004d8d51104585c00f84160200004531c04c8d',
    '1d70020000498b3a4885ff74254c89dee807fdffff85c00f85f4010000488d35600200004983c208e8d4fcffff4109c0',
    'ebd34585c00f84d601000041b80100000031d24531d2b86b0000004889d74889d60f054889c24885c00f85b201000049',
    '89e2b835000000bf01000000be010008000f054885c00f8895010000833c24020f8efe000000488d7c24084531d2b825',
    '010000be000008000f054885c00f88e10000004983c1184c8d15f70100004585c07550498b394885ff74484c89d6e83e',
    'fcffff85c0753c488d35bd010000e849fcffff85c07526488d35b6010000e839fcffff85c07516488d35ae010000e829',
    'fcffff85c075064983c108ebb641b80100000031d24531d2b838000000bf1100022c4889d60f054885c048637c240c49',
    '89c1750e89fa8b7c24044489c6e813fcffffbb030000004531d24889d80f054d85c9790c48637c24084889d80f05eb34',
    '48637c24044531d24889d80f05488b1574fbffff8b04248942088b44240844894a048942104489420cc7024e495354e9',
    '8d00000041b80300000031d248633c244531d24c89c04889d60f0548637c24044c89c00f05eb6a488d359b000000e869',
    'fbffff85c00f8533feffff488d358b000000e855fbffff85c00f851ffeffff488d3582000000e841fbffff85c00f850b',
    'feffff488d357d000000e82dfbffff85c00f85f7fdffff488d356e0000004531c0e816fbffff85c0410f95c0e9ddfdff',
    'ff4883c4105bc3c374696e692d7473005f5f72756e2d696e6974002f70726f632f73656c662f65786500780072756e00',
    '6f636900726f6f74006c6f67006c6f672d666f726d61740073797374656d642d6367726f7570006372697500726f6f74',
    '6c657373002d2d70726573657276652d66647300637265617465002d2d726f6f746673002d2d6c61796572002d2d6275',
    '6e646c65002d2d000f1f8400000000006c6f000000000000000000000000000000000000000000000000000000000000',
    '0000000000000000',
  ].join(''),
  'hex',
);
export const MAGIC = 'TINITSE1';
/** The entry follows the header: magic, the slot's address, Node's entry. */
export const ENTRY_OFFSET = 24;
export const SLOT_SIZE = 32;

const PT_LOAD = 1;
const PT_PHDR = 6;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const ET_EXEC = 2;
const EM_X86_64 = 62;
const PAGE = 0x1000;
const up = (n, a) => Math.ceil(n / a) * a;

class Refused extends Error {}
const refuse = (m) => {
  throw new Refused(m);
};

function parse(buf) {
  const { phoff, phnum, phdrs } = programHeaders(buf, refuse);
  const machine = buf.readUInt16LE(18);
  const type = buf.readUInt16LE(16);
  const entry = Number(buf.readBigUInt64LE(24));
  return { machine, type, entry, phoff, phnum, phdrs, loads: phdrs.filter((p) => p.type === PT_LOAD) };
}

/** The file offset of ADDR in a loaded part of the file, or -1. */
function fileOffset(elf, addr, len) {
  const l = elf.loads.find((p) => addr >= p.vaddr && addr + len <= p.vaddr + p.filesz);
  return l ? l.offset + (addr - l.vaddr) : -1;
}

/** The patched copy of BUF and where the code and the slot are. */
export function patchEntry(input, code = CODE) {
  const elf = parse(input);
  if (elf.machine !== EM_X86_64) refuse(`ELF machine ${elf.machine}: the entry spawn is x64 code`);
  if (elf.type !== ET_EXEC) refuse('not a non-PIE executable (the header holds absolute addresses)');
  if (code.toString('latin1', 0, 8) !== MAGIC) refuse('the code does not start with its header');
  if (find(input) !== null) refuse('the binary has an entry spawn already');
  const phdr = elf.phdrs.find((p) => p.type === PT_PHDR) ?? refuse('no PT_PHDR');
  const free = elf.phoff + elf.phnum * 56;
  if (free + 56 > phdr.offset + phdr.filesz || input.subarray(free, free + 56).some((b) => b !== 0)) refuse('no free entry in the program header table');
  // The slot: the end of the writable segment's .bss, inside its last page.
  const bss = elf.loads.filter((l) => l.flags & PF_W && l.memsz > l.filesz);
  if (bss.length !== 1) refuse(`expected one writable PT_LOAD with a .bss, found ${bss.length}`);
  const data = bss[0];
  const slot = up(data.vaddr + data.memsz, 16);
  if (slot + SLOT_SIZE > up(data.vaddr + data.memsz, PAGE) || elf.loads.some((l) => l !== data && l.vaddr < up(slot + SLOT_SIZE, PAGE) && l.vaddr + l.memsz > data.vaddr)) refuse('no room for the slot in the last page of .bss');
  // The code: a page of its own above every segment, at the end of the file.
  const offset = up(input.length, PAGE);
  const vaddr = up(Math.max(...elf.loads.map((l) => l.vaddr + l.memsz)), PAGE);
  const blob = Buffer.from(code);
  blob.writeBigUInt64LE(BigInt(slot), 8);
  blob.writeBigUInt64LE(BigInt(elf.entry), 16);
  const buf = Buffer.concat([input, Buffer.alloc(offset - input.length), blob]);
  buf.writeBigUInt64LE(BigInt(slot + SLOT_SIZE - data.vaddr), data.at + 40);
  // The new PT_LOAD after the last one (loads stay in address order); the rest move down.
  const last = elf.phdrs.indexOf(elf.loads[elf.loads.length - 1]);
  const at = elf.phoff + (last + 1) * 56;
  buf.copy(buf, at + 56, at, free);
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(PT_LOAD, 0);
  ph.writeUInt32LE(PF_R | PF_X, 4);
  ph.writeBigUInt64LE(BigInt(offset), 8);
  ph.writeBigUInt64LE(BigInt(vaddr), 16);
  ph.writeBigUInt64LE(BigInt(vaddr), 24);
  ph.writeBigUInt64LE(BigInt(blob.length), 32);
  ph.writeBigUInt64LE(BigInt(blob.length), 40);
  ph.writeBigUInt64LE(BigInt(PAGE), 48);
  ph.copy(buf, at);
  buf.writeUInt16LE(elf.phnum + 1, 56);
  buf.writeBigUInt64LE(BigInt(vaddr + ENTRY_OFFSET), 24);
  const found = find(buf);
  if (!found || found.slot !== slot || found.code !== vaddr) refuse('the patched binary does not verify');
  return { buf, code: vaddr, slot, entry: elf.entry };
}

/**
 * Where BUF's entry spawn is ({ code, slot, entry: Node's own }), null if it
 * has none; throws if it has a broken one.
 */
export function find(buf) {
  const elf = parse(buf);
  const code = elf.entry - ENTRY_OFFSET;
  const at = fileOffset(elf, code, ENTRY_OFFSET);
  if (at < 0 || buf.toString('latin1', at, at + 8) !== MAGIC) return null;
  const seg = elf.loads.find((l) => code >= l.vaddr && code < l.vaddr + l.filesz);
  if (!(seg.flags & PF_X) || seg.flags & PF_W) refuse('the entry spawn is not in a read-only executable segment');
  const slot = Number(buf.readBigUInt64LE(at + 8));
  const entry = Number(buf.readBigUInt64LE(at + 16));
  if (!elf.loads.some((l) => l.flags & PF_W && slot >= l.vaddr && slot + SLOT_SIZE <= l.vaddr + l.memsz)) refuse('the entry spawn\'s slot is outside the writable segment');
  if (!elf.loads.some((l) => l !== seg && l.flags & PF_X && entry >= l.vaddr && entry < l.vaddr + l.filesz)) refuse('the entry spawn does not lead to Node\'s entry point');
  return { code, slot, entry };
}

/** Compile entry-spawn.c as the build's bytes were made (gcc, ld and objcopy on PATH). */
export function assemble() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entry-spawn-'));
  try {
    const script = path.join(dir, 'link.ld');
    fs.writeFileSync(script, 'SECTIONS {\n  . = 0;\n  .text : { *(.text.head) *(.text .text.*) *(.rodata .rodata.*) }\n  /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) *(.data*) *(.bss*) }\n}\n');
    const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    run('gcc', ['-Os', '-fPIE', '-fvisibility=hidden', '-ffreestanding', '-fno-builtin', '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fcf-protection=none', '-mgeneral-regs-only', '-fno-jump-tables', '-nostdlib', '-c', path.join(here, 'entry-spawn.c'), '-o', 'es.o']);
    run('ld', ['-T', script, '-o', 'es.elf', 'es.o', '--no-dynamic-linker', '-pie', '--no-warn-rwx-segments']);
    const relocs = execFileSync('readelf', ['-r', 'es.elf'], { cwd: dir, encoding: 'utf8' });
    if (!/no relocations/.test(relocs)) throw new Error('entry-spawn.c compiled with relocations: it must be position-independent');
    run('objcopy', ['-O', 'binary', '-j', '.text', 'es.elf', 'es.bin']);
    return fs.readFileSync(path.join(dir, 'es.bin'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]) && process.argv[2] === '--assemble') {
  process.stdout.write(`${assemble().toString('hex')}\n`);
}

export { Refused };
