/// <reference types="vitest/config" />
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vite'
import { chromiumArgs, chromiumPath } from './test/support/chromiumLaunch.js'

export default defineConfig({
  build: {
    // The library: one entry per subpath export; dependencies stay external for the app's bundler.
    lib: {
      entry: { index: 'src/index.ts', idb: 'src/idb/index.ts', worker: 'src/worker/index.ts' },
      formats: ['es'],
    },
    outDir: 'dist',
    sourcemap: true,
    rolldownOptions: {
      external: [/^idb(\/|$)/, /^comlink(\/|$)/, /^zustand(\/|$)/, /^react(\/|$)/],
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
