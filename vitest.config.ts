import fs from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // src/texts.ts imports the LICENSE file as text, as esbuild's build does.
      name: 'license-text',
      load(id) {
        if (id.endsWith('/LICENSE')) return `export default ${JSON.stringify(fs.readFileSync(id, 'utf8'))};`;
        return null;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // the VM stage boots a guest: its own run (vitest.vm.config.ts, npm run test:vm);
    // test/qemu runs the arm64 binary under qemu-user (vitest.qemu.config.ts, npm run test:arm64)
    exclude: [...configDefaults.exclude, 'test/vm/**', 'test/qemu/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes, namespaces and signals: keep
    // files sequential on this 2-core machine so timing never decides a result.
    fileParallelism: false,
    reporters: ['default'],
  },
});
