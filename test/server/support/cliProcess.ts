import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../../../bin/duality.mjs', import.meta.url))

export interface CliServer {
  url: string
  child: ChildProcess
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  output(): string
}

/**
 * Starts `duality serve` as its own process and waits for it to listen. `cwd` is the directory it
 * runs in, as a user's shell would start it there (the default `--data ./data` is relative to it).
 */
export function startCli(args: string[], options: { cwd?: string } = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  })
  let out = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve({ url: match[1]!, child, exited, output: () => out })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()))
    void exited.then(({ code, signal }) =>
      reject(new Error(`duality serve exited (${code ?? signal}) before listening:\n${out}`)),
    )
  })
}
