import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { createServer, type ViteDevServer } from 'vite'
import { chromiumArgs, chromiumPath } from './chromiumLaunch.js'

/**
 * Real pages for multi-page scenarios (reloads, several tabs): a Vite dev server over the repo and
 * Debian's Chromium driven by playwright-core. Pages under test/e2e/pages import the library's
 * source directly, as an app's bundler would.
 */
export interface ChromiumHarness {
  baseUrl: string
  browser: Browser
  context: BrowserContext
  /** Opens a page of test/e2e/pages and waits until its script says it is ready. */
  open(page: string): Promise<Page>
  close(): Promise<void>
}

export async function startChromium(): Promise<ChromiumHarness> {
  const server: ViteDevServer = await createServer({
    configFile: false,
    root: new URL('../..', import.meta.url).pathname,
    logLevel: 'error',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    // React is CommonJS: pre-bundled for the pages that render views.
    optimizeDeps: {
      noDiscovery: true,
      include: ['idb', 'comlink', 'react', 'react-dom/client', 'zustand/vanilla'],
    },
  })
  await server.listen()
  const baseUrl = server.resolvedUrls!.local[0]!
  let browser: Browser
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
  } catch (error) {
    await server.close()
    throw error
  }
  const context = await browser.newContext()
  return {
    baseUrl,
    browser,
    context,
    async open(path) {
      const page = await context.newPage()
      page.on('pageerror', (error) => console.error(`[${path}]`, error))
      await page.goto(new URL(`test/e2e/pages/${path}`, baseUrl).href)
      await page.waitForFunction(() => (window as { ready?: boolean }).ready === true)
      return page
    },
    async close() {
      await browser.close().catch(() => undefined)
      await server.close()
    },
  }
}
