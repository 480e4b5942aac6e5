/** The VM stage (npm run test:vm): test/vm/ only; the host suite (vitest.config.ts) leaves it out. */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(base, defineConfig({ test: { include: ['test/vm/**/*.test.ts'], exclude: [] } }));
