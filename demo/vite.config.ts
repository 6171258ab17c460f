import { defineConfig } from 'vite'

// The demo app, served from demo/ with the library's source one level up. `npm run demo`
// (demo/startDemo.ts) adds the proxy to the duality server; `npm run demo:build` builds it.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  server: { host: '127.0.0.1', port: 5173, fs: { allow: ['..'] } },
  worker: { format: 'es' },
  // React is CommonJS: pre-bundled once, up front; no discovery, so no reload mid-session.
  optimizeDeps: {
    noDiscovery: true,
    include: ['react', 'react-dom/client', 'zustand/vanilla', 'comlink', 'idb'],
  },
})
