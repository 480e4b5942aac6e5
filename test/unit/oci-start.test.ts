/**
 * `start`'s wait at the start gate (commands/oci/start.ts waitAtGate): the
 * init's byte taken, an init that died without taking it, the deadline, and
 * the race seen on a busy machine: the init takes the start, runs a short
 * workload and ends between two looks of `start`, whose FIFO still holds the
 * byte. That start happened: `start` must succeed (it said "container process
 * is already dead").
 */
import { describe, expect, it } from 'vitest';
import { waitAtGate } from '../../src/commands/oci/start.js';

/** A gate whose reads return the given byte counts in turn (then the last one again). */
function gate(reads: number[]): () => number {
  let i = 0;
  return () => reads[Math.min(i++, reads.length - 1)];
}

describe('start: the wait at the start gate', () => {
  it('the byte is there: taken', () => {
    expect(waitAtGate(gate([0, 0, 1]), () => true, () => false, () => {})).toBe('taken');
  });

  it('the init wrote its byte, ran the workload and ended between two looks: taken, not dead', () => {
    // First look: nothing yet; then the init is gone, with its byte in the FIFO.
    expect(waitAtGate(gate([0, 1]), () => false, () => false, () => {})).toBe('taken');
  });

  it('the init ended without taking the start: dead', () => {
    expect(waitAtGate(gate([0]), () => false, () => false, () => {})).toBe('dead');
  });

  it('the init never takes it: timeout, after napping between looks', () => {
    let naps = 0;
    let t = 0;
    expect(waitAtGate(gate([0]), () => true, () => t++ >= 3, () => naps++)).toBe('timeout');
    expect(naps).toBe(3);
  });
});
