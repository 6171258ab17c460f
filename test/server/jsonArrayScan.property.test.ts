import fc from 'fast-check'
import { expect, test } from 'vitest'
import { scanJsonArray } from '../../src/server/http/jsonArrayScan.ts'
import { parseJsonMessages } from '../../src/server/http/jsonMessages.ts'
import { propertyRuns, propertyTimeout } from '../support/propertyRuns.ts'

// The append path validates JSON batches with its own byte scan instead of JSON.parse: it must
// accept exactly what JSON.parse accepts (after the fatal UTF-8 decode the old path did), and cut
// the elements JSON.parse would have produced.
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The messages the previous path stored (a batch's elements, any other value alone), or undefined for a refusal. */
function reference(bytes: Uint8Array): unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    return Array.isArray(value) ? value : [value]
  } catch {
    return undefined
  }
}

/** Whitespace outside the strings of valid JSON text. */
const spacedOutsideStrings = (text: string): boolean =>
  /[ \t\r\n]/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'))

function check(bytes: Uint8Array): void {
  const expected = reference(bytes)
  const parsed = parseJsonMessages(bytes, true)
  expect(parsed.ok).toBe(expected !== undefined)
  if (!parsed.ok || expected === undefined) return
  // The messages stored are the elements JSON.parse gives, each compact.
  const messages = parsed.messages.map((m) => decoder.decode(m))
  expect(JSON.stringify(messages.map((m) => JSON.parse(m) as unknown))).toBe(
    JSON.stringify(expected),
  )
  for (const m of messages) expect(spacedOutsideStrings(m)).toBe(false)
  // An element is re-serialised exactly when it has whitespace of its own.
  const scanned = scanJsonArray(bytes, 1_000)
  if (!scanned) return // not a batch: one message, JSON.parse's
  for (let e = 0; e < scanned.elements.length; e += 3) {
    const text = decoder.decode(bytes.subarray(scanned.elements[e], scanned.elements[e + 1]))
    expect(scanned.elements[e + 2] === 1).toBe(spacedOutsideStrings(text))
  }
}

// Bytes that matter to JSON's grammar, so that mutations land on the interesting cases.
const interesting = [...'[]{},:"\\/ \t\r\n0123456789-+.eEtruefalsnbu\u0000\u001fA\u00e9\u{1f600}']

test(
  'the scan accepts exactly what JSON.parse accepts, and cuts the same elements',
  () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 6 }),
        fc.constantFrom(undefined, 1, '\t', ' \r\n '),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom('insert', 'delete', 'replace'),
            fc.constantFrom(...interesting),
          ),
          { maxLength: 3 },
        ),
        (values, space, edits) => {
          let text = JSON.stringify(values, null, space)
          for (const [at, kind, char] of edits) {
            const i = text.length === 0 ? 0 : at % text.length
            if (kind === 'insert') text = text.slice(0, i) + char + text.slice(i)
            else if (kind === 'delete') text = text.slice(0, i) + text.slice(i + 1)
            else text = text.slice(0, i) + char + text.slice(i + 1)
          }
          check(encoder.encode(text))
        },
      ),
      propertyRuns(3000, 2),
    )
  },
  propertyTimeout(3000, 2),
)

test('any bytes after [: the same verdict as JSON.parse', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), (tail) => {
      const bytes = new Uint8Array([0x5b, ...tail])
      check(bytes)
    }),
    propertyRuns(3000, 2),
  )
})

test.each([
  ['numbers', ['[01]', '[1.]', '[.5]', '[-]', '[1e]', '[1e+]', '[+1]', '[-0.0e-0]', '[1E5]']],
  ['strings', ['["\\x"]', '["\\u12g4"]', '["\\u00e9"]', '["a\tb"]', '["\\/"]', '["unterminated]']],
  ['literals', ['[tru]', '[true]', '[nul]', '[null ]', '[False]', '[truex]']],
  ['structure', ['[1,]', '[,1]', '[1 2]', '[{"a"}]', '[{"a":1,}]', '[{1:2}]', '[] x', ' [ ] ']],
  ['byte order mark and UTF-8', ['\ufeff[1]', ' \ufeff[1]', '["\u00e9"]']],
])('%s: the same verdict as JSON.parse', (_, texts) => {
  for (const text of texts) check(encoder.encode(text))
})

test('invalid UTF-8 inside a string is refused, as the fatal decoder did', () => {
  const bytes = new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d])
  expect(scanJsonArray(bytes, 1_000)?.sawHighByte).toBe(true)
  expect(parseJsonMessages(bytes, false).ok).toBe(false)
})

test('the depth limit counts the outer array: 1,000 levels pass, 1,001 do not', () => {
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels)
  expect(scanJsonArray(encoder.encode(nested(1_000)), 1_000)).toBeDefined()
  expect(scanJsonArray(encoder.encode(nested(1_001)), 1_000)).toBeUndefined()
  const objects = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels)
  expect(scanJsonArray(encoder.encode(`[${objects(999)}]`), 1_000)).toBeDefined()
  expect(scanJsonArray(encoder.encode(`[${objects(1_000)}]`), 1_000)).toBeUndefined()
})

test('spaced elements are marked for re-serialising, compact ones are not', () => {
  const scanned = scanJsonArray(encoder.encode('[ {"a":1} , {"a": 1}, [1 ,2], "x y" ]'), 1_000)
  expect(scanned?.elements).toEqual([2, 9, 0, 12, 20, 1, 22, 28, 1, 30, 35, 0])
})
