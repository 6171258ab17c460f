/**
 * A missing optional peer dependency named: the server's drivers (hono, better-sqlite3, jose,
 * @nats-io/*) are optional peers, so an app installs only what it runs. Importing a module
 * that needs one that is not installed fails with Node's ERR_MODULE_NOT_FOUND for a file deep in
 * duality; this says which package to install, and for what.
 */
export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError'
  constructor(
    readonly packageName: string,
    what: string,
  ) {
    super(`${what} needs the package "${packageName}": npm install ${packageName}`)
  }
}

export async function importPeer<T>(
  load: () => Promise<T>,
  packages: readonly string[],
  what: string,
): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const message = error instanceof Error ? error.message : ''
    if (code === 'ERR_MODULE_NOT_FOUND') {
      // Node names the package it could not find: "Cannot find package 'hono' imported from ...".
      const missing = packages.find((p) => message.includes(`'${p}'`))
      if (missing) throw new MissingPeerError(missing, what)
    }
    throw error
  }
}
