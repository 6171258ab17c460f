/// <reference types="vitest/config" />
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vite'
import { chromiumArgs, chromiumPath } from './test/support/chromiumLaunch.js'

export default defineConfig({
  build: {
    // The library: one entry per subpath export; dependencies stay external for the app's bundler.
    lib: {
      entry: {
        index: 'src/index.ts',
        idb: 'src/storage/idb/index.ts',
        worker: 'src/worker/index.ts',
        testing: 'src/testing/index.ts',
        zustand: 'src/zustand/index.ts',
        react: 'src/react/index.ts',
        devtools: 'src/devtools/index.ts',
        protocol: 'src/protocol/index.ts',
        server: 'src/server/index.ts',
        'server-jwt': 'src/server/auth/index.ts',
        'server-node': 'src/server/node/index.ts',
        'server-sqlite': 'src/server/engines/sqlite/index.ts',
        'server-jetstream': 'src/server/engines/jetstream/index.ts',
        'server-browser': 'src/server/browserStub.ts',
        cli: 'src/server/node/cli.ts',
      },
      formats: ['es'],
    },
    outDir: 'dist',
    sourcemap: true,
    rolldownOptions: {
      external: [
        /^idb(\/|$)/,
        /^comlink(\/|$)/,
        /^zustand(\/|$)/,
        /^react(\/|$)/,
        // The server's drivers and Node itself stay imports: the app's bundler or Node resolves them.
        /^node:/,
        /^tsx(\/|$)/,
        /^hono(\/|$)/,
        /^@hono\/node-server(\/|$)/,
        /^better-sqlite3$/,
        /^jose(\/|$)/,
        /^@nats-io\//,
      ],
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'test/e2e/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          // Whole pages, workers and a browser per file: one file at a time, and time to start
          // them on a loaded 2-core machine (the scenarios' own deadlines are asserted inside).
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 30_000,
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
