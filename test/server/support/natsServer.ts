import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface NatsServer {
  url: string
  stop(): Promise<void>
}

const binary = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
  (path) => existsSync(path),
)

/** A free loopback port (the OS picks it; a tiny race with other processes is tolerable in tests). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * This test's own `nats-server -js` on a free loopback port, storing in a temporary directory
 * that `stop` removes after killing the process. `.ci/setup` installs the binary when missing.
 */
export async function startNatsServer(
  options: { maxFileStore?: string } = {},
): Promise<NatsServer> {
  if (!binary) throw new Error('nats-server is not installed (see .ci/setup)')
  const dir = mkdtempSync(join(tmpdir(), 'duality-nats-'))
  const port = await freePort()
  let args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir]
  if (options.maxFileStore !== undefined) {
    // Storage limits exist only in a config file.
    const config = join(dir, 'nats.conf')
    writeFileSync(
      config,
      `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, 'store')}", max_file_store: ${options.maxFileStore} }\n`,
    )
    args = ['-c', config]
  }
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 30_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes('Server is ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`nats-server exited with ${code}:\n${log}`))
    })
  })
  child.stderr!.resume()
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
