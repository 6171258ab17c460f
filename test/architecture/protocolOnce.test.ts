import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { H } from '../../src/protocol/index.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

const sources = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(root, path)).isDirectory()
      ? sources(path)
      : path.endsWith('.ts')
        ? [path]
        : []
  })

// Everything of the wire the two ends must agree on, as a client or server would spell it
// anew: a header name, the offset's shape, the topics' and the admin API's paths.
const restated: [string, RegExp][] = [
  ...Object.values(H).map((name): [string, RegExp] => [
    `header ${name}`,
    new RegExp(`['"\`]${name}['"\`]`, 'i'),
  ]),
  ['the offset format (16-digit padding)', /padStart\(\s*16/],
  ['the offset pattern', /\\d\{1,16\}_/],
  ['the topics path', /['"`]\/topics\//],
  ['the admin path', /['"`]\/admin\/topics/],
]

test.each(['src/server', 'src/sync'])(
  '%s defines no protocol detail of its own: it imports src/protocol',
  (dir) => {
    const found: string[] = []
    for (const file of sources(dir)) {
      // Code only: comments may name a header or a path to explain it.
      const text = readFileSync(join(root, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1')
      for (const [what, pattern] of restated) {
        if (pattern.test(text)) found.push(`${relative(root, join(root, file))}: ${what}`)
      }
    }
    expect(found).toEqual([])
  },
)

test('the check sees a restated detail', () => {
  const text = "headers.get('stream-next-offset'); String(n).padStart(16, '0')"
  expect(restated.filter(([, pattern]) => pattern.test(text)).map(([what]) => what)).toEqual([
    'header stream-next-offset',
    'the offset format (16-digit padding)',
  ])
})
