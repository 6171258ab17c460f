import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCli } from './support/cliProcess.ts'
import { runConformanceAt } from './support/runConformance.ts'

// The whole Durable Streams conformance suite (@durable-streams/server-conformance-tests) against
// `duality serve` as a user starts it: its own process on a free port, in an empty directory of its
// own (so the default `--data ./data` SQLite database is made there), over real HTTP with Node's
// fetch. What differs from the in-process runs is what only the process has: its argument parsing
// and defaults, and node:http in front of the app. The suite's long-poll tests wait for a 204:
// `--long-poll-timeout` keeps that to 3 s instead of the default 30 s.
runConformanceAt(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'duality-conformance-cli-'))
  try {
    const cli = await startCli(['--long-poll-timeout', '3000'], { cwd: dir })
    return {
      url: cli.url,
      stop: async () => {
        cli.child.kill('SIGTERM')
        await cli.exited
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
})
