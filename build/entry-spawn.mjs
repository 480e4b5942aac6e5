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
//   - the launcher's slot (16 bytes) is the end of .bss, grown by that much
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

/** entry-spawn.c, compiled by --assemble (gcc 12.2, Debian 12). */
export const CODE = Buffer.from(
  [
    '54494e495453453100000000000000000000000000000000f30f1efa4889e75257e8b50100005f5a4889fcff25dfffff',
    'ff31c08a14078a0c0684d2740748ffc038ca74ef31c038ca0f94c0c331c08a140684d2740c48ffc03a5407ff74f031c0',
    'c38a140784d20f94c080fa3d0f94c209d00fb6c0c3554189f8b90800000031c0534189d189f3bd0d00000031d2488d7c',
    '24b0488d7424b0f3abbf0100000041ba080000004889e80f0548ffc74883ff4175ec31c9bd02000000488d742490b80e',
    '00000048894c24904889ef0f054531d2b86d0000004889d74889d60f05b8b4010000bf03000000beffffffffba040000',
    '000f054889c24885c00f85b40000004963f8b8480000004889ee0f054885c00f859e000000c64424af00b90a000000bf',
    '0a0000004489c0488d7424a499f7ff83c23088540ca44489c24189c04889c848ffc983fa097fdd4898ba00000000488d',
    '0d850300004801c6488d05fa03000085db48894c24d048894424e8488d05ce030000488d0d69030000480f44c2488974',
    '24e04531d2488d54249848894c24d8488d7424d0488d3d5203000048894424f031c048894424f84889442498b83b0000',
    '000f05b8010000004963f94531d2488d35370300004889c20f0531d2b83c000000bf7f0000004889d60f05833f010f8e',
    'f502000041544989f8488d350e0300004531c955534883ec20488b7f10e82ffeffff85c00f85bc000000498b40084989',
    'c18a1084d2740c48ffc080fa2f4c0f44c8ebee488d35d8020000e802feffff89c185c9755d418a0184c0742a3c72498d',
    '4101750e41807901757507418079026e74054989c1ebde31c941807903634989c10f94c1ebcb803f2d752731c0807f01',
    '2d488d358e020000b9010000000f94c0488d7c0701e8c2fdffff85c00f84d60100004d8d4810488d359a02000085c90f',
    '842b020000498b394885ff0f841f020000e87bfdffff85c075064983c108ebe541b90100000031d24531d2b86b000000',
    '4889d74889d60f054889c24885c00f85ec0100004c8d542410b835000000bf01000000be010008000f054885c00f88cd',
    '010000837c2410020f8e36010000488d7c24184531d2b825010000be000008000f054885c00f88190100004983c0184c',
    '8d15220200004585c97550498b384885ff74484c89d6e8e6fcffff85c0753c488d35e8010000e8f1fcffff85c0752648',
    '8d35e1010000e8e1fcffff85c07516488d35d9010000e8d1fcffff85c075064983c008ebb641b9010000004531c04531',
    'd2b838000000bf1140022c4c89c64c89c20f054885c08b54241c4889c3750c8b7c24144489cee8bafcffffbd03000000',
    '4863fa4531d24c89c24889e80f054885db48637c24184889e87832488d74240f4531d2ba010000004c89c00f054989c4',
    '48637c24184889e84c89c64c89c20f054d85e4740cb83d0000004889df0f05eb3348637c24144531d24889e84c89e64c',
    '89e20f05488b05ddfbffff8b5424108958048950084489480cc7004e495354e98c00000041b80300000031d248637c24',
    '104531d24c89c04889d60f0548637c24144c89c00f05eb68488d359c000000e8d8fbffff85c00f8516feffff488d358c',
    '000000e8c4fbffff85c00f8502feffff488d3583000000e8b0fbffff85c00f85eefdffff488d357e000000e89cfbffff',
    '85c00f85dafdffff488d356f00000031c9e886fbffff85c00f95c1e9c2fdffff4883c4205b5d415cc3c374696e692d74',
    '73005f5f72756e2d696e6974002f70726f632f73656c662f65786500780072756e006f636900726f6f74006c6f67006c',
    '6f672d666f726d61740073797374656d642d6367726f7570006372697500726f6f746c65737300637265617465002d2d',
    '726f6f746673002d2d6c61796572002d2d62756e646c65002d2d00',
  ].join(''),
  'hex',
);
export const MAGIC = 'TINITSE1';
/** The entry follows the header: magic, the slot's address, Node's entry. */
export const ENTRY_OFFSET = 24;
export const SLOT_SIZE = 16;

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
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) refuse('not a 64-bit little-endian ELF file');
  const machine = buf.readUInt16LE(18);
  const type = buf.readUInt16LE(16);
  const entry = Number(buf.readBigUInt64LE(24));
  const phoff = Number(buf.readBigUInt64LE(32));
  const phnum = buf.readUInt16LE(56);
  if (buf.readUInt16LE(54) !== 56) refuse('unexpected program header size');
  const phdrs = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    phdrs.push({
      at: o, type: buf.readUInt32LE(o), flags: buf.readUInt32LE(o + 4), offset: Number(buf.readBigUInt64LE(o + 8)),
      vaddr: Number(buf.readBigUInt64LE(o + 16)), filesz: Number(buf.readBigUInt64LE(o + 32)), memsz: Number(buf.readBigUInt64LE(o + 40)),
    });
  }
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
