import { defineConfig } from 'vite'

// `npm run demo`: the demo app, served from demo/ with the library's source one level up.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  server: { host: '127.0.0.1', port: 5173, fs: { allow: ['..'] } },
  worker: { format: 'es' },
})
