/// <reference types="vitest/config" />
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vite'

/**
 * Debian's chromium, never a downloaded browser: installs here have no internet beyond npm and
 * Debian. These flags stop Chromium from calling home, which this network refuses (DESIGN.md §6).
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

export default defineConfig({
  build: {
    // The library: one entry per subpath export; dependencies stay external for the app's bundler.
    lib: {
      entry: { index: 'src/index.ts', idb: 'src/idb/index.ts' },
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
