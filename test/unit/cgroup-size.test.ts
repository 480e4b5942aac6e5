import { describe, expect, it } from 'vitest';
import { expandCpuList, formatBytes, parseCpuList, parseDuration, parseSize } from '../../src/cgroup/size.js';

describe('parseSize (docker forms)', () => {
  it.each([
    ['1048576', 1048576],
    ['512m', 512 * 1024 ** 2],
    ['512M', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['100k', 102400],
    ['2gb', 2 * 1024 ** 3],
    ['64MiB', 64 * 1024 ** 2],
    ['10b', 10],
    [' 1t ', 1024 ** 4],
  ])('%s → %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['', 'm', '12q', '-5m', '1..5g', 'abc', '5 m b', '1e3'])('rejects %j', (text) => {
    expect(typeof parseSize(text)).toBe('string');
  });

  it('rejects sizes beyond exact integers', () => expect(parseSize('99999999999t')).toMatch(/too large/));
});

describe('parseDuration', () => {
  it.each([
    ['30', 30_000],
    ['1.5', 1500],
    ['500ms', 500],
    ['2s', 2000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
  ])('%s → %d ms', (t, ms) => expect(parseDuration(t)).toBe(ms));
  it.each(['', 's', '5x', '1m30', '-1s', '30 s'])('rejects %j', (t) => expect(typeof parseDuration(t)).toBe('string'));
});

describe('cpu lists and byte formatting', () => {
  it('normalises and expands cpu lists', () => {
    expect(parseCpuList('0-1, 3')).toBe('0-1,3');
    expect(parseCpuList('2-2')).toBe('2');
    expect(parseCpuList('3-1')).toEqual([expect.stringMatching(/backwards/)]);
    expect(parseCpuList('a')).toEqual([expect.stringMatching(/not a CPU list/)]);
    expect(expandCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
  });
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(64 * 1024 ** 2)).toBe('64.0 MiB');
  });
});
