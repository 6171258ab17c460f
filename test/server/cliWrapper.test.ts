import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { until } from '../support/until.ts'

const bin = fileURLToPath(new URL('../../bin/duality.mjs', import.meta.url))

/**
 * How `npx duality serve` runs the server: npm starts `sh -c duality ...`, the shell starts node,
 * and a signal to npx reaches neither. The stand-in here is a node process that starts the same
 * shell (`; :` keeps sh from exec'ing into node, as npm's command line does) and is then killed.
 */
async function startWrapped(): Promise<{ url: string; kill(signal: NodeJS.Signals): void }> {
  const shell = `"${process.execPath}" "${bin}" serve --memory --port 0; :`
  const launcher = spawn(
    process.execPath,
    [
      '-e',
      `require('node:child_process').spawn('sh', ['-c', ${JSON.stringify(shell)}], { stdio: 'inherit' }); setInterval(() => {}, 1e9)`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    launcher.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve(match[1]!)
    })
    launcher.once('exit', () =>
      reject(new Error(`launcher exited before the server listened:\n${out}`)),
    )
  })
  return { url, kill: (signal) => launcher.kill(signal) }
}

const answers = async (url: string): Promise<boolean> => {
  try {
    await (await fetch(`${url}/admin/topics`)).body?.cancel()
    return true
  } catch {
    return false
  }
}

test.each(['SIGTERM', 'SIGKILL'] as const)(
  'the server stops when the process that started it through a shell gets %s',
  async (signal) => {
    const server = await startWrapped()
    expect(await answers(server.url)).toBe(true)
    server.kill(signal)
    // It watches its shell's parent every 500 ms, then shuts down gracefully.
    await until(async () => !(await answers(server.url)), 10_000)
  },
  30_000,
)
