/**
 * The launcher <-> init channel: a stream socket carrying frames of a 4-byte
 * little-endian length and a JSON body. Framed rather than line-based so a
 * reader can take exactly one message and leave the next in the socket for
 * another reader: the init reads its set-up frame, builds the container,
 * and only then reads the process frame after it (or the launcher sends
 * that one later, after OCI hooks).
 *
 * Bytes that need not be UTF-8 (argv, environment) travel as base64 inside
 * the JSON (see encodeBytes): the plan never goes through argv or environ,
 * where every user on the host could read it in /proc/PID/cmdline.
 */
import fs from 'node:fs';

/** Larger frames are refused: no honest plan comes near (argv alone is bounded by the caller's ARG_MAX). */
export const MAX_FRAME = 64 * 1024 * 1024;

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Accumulates bytes as they arrive and yields whole messages; a torn or bad frame ends the stream. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  broken: string | null = null;

  push(chunk: Buffer): unknown[] {
    if (this.broken) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: unknown[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (len > MAX_FRAME) {
        this.broken = `a frame of ${len} bytes`;
        return out;
      }
      if (this.buf.length < 4 + len) break;
      try {
        out.push(JSON.parse(this.buf.subarray(4, 4 + len).toString()));
      } catch {
        this.broken = 'a frame that is not JSON';
        return out;
      }
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }

  /** Bytes of an unfinished frame (a peer that died mid-write). */
  get pending(): number {
    return this.buf.length;
  }
}

function readExactly(fd: number, n: number): Buffer | null {
  const buf = Buffer.alloc(n);
  for (let off = 0; off < n; ) {
    let got: number;
    try {
      got = fs.readSync(fd, buf, off, n - off, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (got === 0) return null;
    off += got;
  }
  return buf;
}

/**
 * Reads exactly one frame from a blocking descriptor (and not a byte more),
 * or null at end of stream. Throws on a frame that is not one of ours.
 */
export function readFrameSync(fd: number): unknown {
  const head = readExactly(fd, 4);
  if (head === null) return null;
  const len = head.readUInt32LE(0);
  if (len > MAX_FRAME) throw new Error(`a frame of ${len} bytes`);
  const body = readExactly(fd, len);
  if (body === null) throw new Error('the stream ended inside a frame');
  return JSON.parse(body.toString());
}

export const encodeBytes = (list: Buffer[]): string[] => list.map((b) => b.toString('base64'));
export const decodeBytes = (list: string[]): Buffer[] => list.map((s) => Buffer.from(s, 'base64'));
