/**
 * A missing optional peer dependency, named: the server's drivers (hono, @hono/node-server,
 * better-sqlite3, jose, @nats-io/*) are optional peers, so an app installs only what it runs.
 * Without this, Node's ERR_MODULE_NOT_FOUND names a file deep inside duality's dist.
 */
export class MissingPeerError extends Error {
  override name = 'MissingPeerError'
  constructor(
    /** What to install: the package found missing first, then the others the feature needs. */
    readonly packages: readonly string[],
    what: string,
  ) {
    super(
      `${what} needs the package${packages.length > 1 ? 's' : ''} ${packages.map((p) => `"${p}"`).join(', ')}: npm install ${packages.join(' ')}`,
    )
  }
}

/**
 * Imports a module that needs some of `packages`; when Node cannot find one of them, throws a
 * MissingPeerError naming it first and the rest of `packages` after it.
 */
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
      if (missing)
        throw new MissingPeerError([missing, ...packages.filter((p) => p !== missing)], what)
    }
    throw error
  }
}
