import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  compareOffsets,
  formatOffset,
  formatReadFrom,
  NOW_OFFSET,
  parseOffset,
  parseReadFrom,
  START_OFFSET,
} from '../../src/protocol/index.ts'

// PROTOCOL.md §6: offsets are opaque strings whose lexicographic order is the stream's order.
describe('wire offsets', () => {
  test('the start of a stream has the shape Durable Streams clients use', () => {
    expect(formatOffset(0)).toBe('0000000000000000_0000000000000000')
    expect(formatOffset(1234)).toBe('0000000000000000_0000000000001234')
  })

  test('string order is numeric order, and parse undoes format', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (a, b) => {
          expect(parseOffset(formatOffset(a))).toBe(a)
          expect(Math.sign(compareOffsets(formatOffset(a), formatOffset(b)))).toBe(Math.sign(a - b))
        },
      ),
    )
  })

  test.each([
    ['', 'empty'],
    ['12', 'no separator'],
    ['0000000000000001_0000000000000000', 'a nonzero reserved part'],
    ['0_99999999999999999', 'seventeen digits'],
    ['0_-1', 'a sign'],
    [' 0_1', 'a space'],
    [null, 'no header'],
  ])('refuses %j (%s)', (token, _why) => {
    expect(parseOffset(token)).toBeUndefined()
  })

  test('a read starts at the beginning, the tail or an offset (§5.5)', () => {
    expect(parseReadFrom(undefined)).toEqual({ kind: 'start' })
    expect(parseReadFrom(START_OFFSET)).toEqual({ kind: 'start' })
    expect(parseReadFrom(NOW_OFFSET)).toEqual({ kind: 'now' })
    expect(parseReadFrom(formatOffset(7))).toEqual({ kind: 'offset', offset: 7 })
    expect(parseReadFrom('seven')).toBeUndefined()
    for (const from of [
      { kind: 'start' },
      { kind: 'now' },
      { kind: 'offset', offset: 42 },
    ] as const) {
      expect(parseReadFrom(formatReadFrom(from))).toEqual(from)
    }
  })
})
