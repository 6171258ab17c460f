import { InvalidConfigError } from '../../log/errors.ts'
import { topicsPrefix } from '../../protocol/index.ts'
import { checkPath } from './checkPath.ts'

/** Where plain Durable Streams live when the server is not told otherwise (the protocol's examples). */
export const defaultStreamPrefixes: readonly string[] = ['/v1/stream/']

/**
 * The server's own routes: a stream prefix that contained one, or lay inside one, would make the
 * same path mean two things (and `/` would make every typo a stream again).
 */
const reserved = [topicsPrefix, '/admin/', '/auth/']

/**
 * Checks the `streamPrefixes` option: each one a path that starts and ends with `/`, spelled the
 * way checkPath accepts request paths, and clear of the topic, admin and ticket routes. Returns the
 * prefixes to use; throws InvalidConfigError naming the first bad one.
 */
export function checkStreamPrefixes(prefixes: unknown): readonly string[] {
  if (prefixes === undefined) return defaultStreamPrefixes
  if (!Array.isArray(prefixes)) {
    throw new InvalidConfigError('streamPrefixes must be an array of paths such as "/v1/stream/"')
  }
  for (const prefix of prefixes as unknown[]) {
    if (typeof prefix !== 'string' || !prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw new InvalidConfigError(
        `Stream prefix ${JSON.stringify(prefix)} must be a path that starts and ends with /, such as "/v1/stream/"`,
      )
    }
    const problem = checkPath(prefix) ?? (prefix.includes('?') ? 'No query string' : undefined)
    if (problem) throw new InvalidConfigError(`Stream prefix "${prefix}": ${problem}`)
    const clash = reserved.find((route) => prefix.startsWith(route) || route.startsWith(prefix))
    if (clash) {
      throw new InvalidConfigError(
        `Stream prefix "${prefix}" overlaps the server's ${clash} routes: choose one outside ${reserved.join(', ')}`,
      )
    }
  }
  return [...(prefixes as string[])]
}

/** Whether `path` names a stream under one of `prefixes` (the prefix alone names none). */
export const underStreamPrefix = (path: string, prefixes: readonly string[]): boolean =>
  prefixes.some((prefix) => path.length > prefix.length && path.startsWith(prefix))
