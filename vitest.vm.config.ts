/** The VM stage (npm run test:vm): test/vm/ only; the host suite (vitest.config.ts) leaves it out. */
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({ ...base, test: { ...base.test, include: ['test/vm/**/*.test.ts'], exclude: configDefaults.exclude } });
