import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createLogger } from '../../src/log/log.js';

let writes: MockInstance<typeof fs.writeSync>;
beforeEach(() => {
  writes = vi.spyOn(fs, 'writeSync').mockImplementation(() => 0);
});
afterEach(() => {
  writes.mockRestore();
});

const written = () => writes.mock.calls.map(([fd, text]) => [fd, text]);

describe('logger', () => {
  it('writes tini\'s format to fd 2 with fs.writeSync', () => {
    createLogger(1, 1).log('fatal', 'prctl(PR_SET_PDEATHSIG) failed: EINVAL');
    createLogger(1, 57).log('warn', 'careful');
    expect(written()).toEqual([
      [2, '[FATAL tini-ts (1)] prctl(PR_SET_PDEATHSIG) failed: EINVAL\n'],
      [2, '[WARN  tini-ts (57)] careful\n'],
    ]);
  });

  it('shows a level only from its verbosity on; FATAL always', () => {
    const levels = ['fatal', 'warn', 'info', 'debug', 'trace'] as const;
    for (let verbosity = -1; verbosity <= 5; verbosity++) {
      writes.mockClear();
      const logger = createLogger(verbosity, 1);
      for (const level of levels) logger.log(level, level);
      const shown = written().map(([, t]) => String(t).split('] ')[1].trim());
      expect(shown).toEqual(levels.filter((_, rank) => rank <= Math.max(verbosity, 0)));
      for (const [rank, level] of levels.entries()) expect(logger.enabled(level)).toBe(rank <= Math.max(verbosity, 0));
    }
  });

  it('never throws when stderr is gone', () => {
    writes.mockImplementation(() => {
      throw Object.assign(new Error('EBADF'), { code: 'EBADF' });
    });
    expect(() => createLogger(4, 1).log('warn', 'x')).not.toThrow();
  });
});
