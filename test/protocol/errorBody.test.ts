import { expect, test } from 'vitest'
import { errorBody, readErrorBody } from '../../src/protocol/index.ts'

test('an error body reads back as its code and message', () => {
  expect(readErrorBody(JSON.parse(JSON.stringify(errorBody('STREAM_GONE', 'deleted'))))).toEqual({
    code: 'STREAM_GONE',
    message: 'deleted',
  })
})

test.each([
  null,
  'text',
  42,
  {},
  { error: null },
  { error: { code: 1, message: 'm' } },
  { error: { code: 'X' } },
])('a body that is not an error body (%j) reads as undefined', (body) => {
  expect(readErrorBody(body)).toBeUndefined()
})
