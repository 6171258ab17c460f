import fc from 'fast-check'
import { expect, test } from 'vitest'
import { createApp, memoryServerStorage } from '../../src/server/index.ts'
import { propertyRuns, propertyTimeout } from '../support/propertyRuns.ts'

// JSON-mode appends split a batch into messages by scanning the body's bytes; whatever the
// values, the spacing and the characters, reading back must give the values that were sent.
const json = { 'content-type': 'application/json' }

test(
  'a JSON batch reads back as the values sent, compact or spaced, any characters',
  async () => {
    const { app } = createApp({ storage: memoryServerStorage() })
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(undefined, 1, '\t', ' \r\n '),
        async (values, space) => {
          const path = `/v1/stream/p/${n++}`
          expect((await app.request(path, { method: 'PUT', headers: json })).status).toBe(201)
          const body = JSON.stringify(values, null, space)
          const posted = await app.request(path, { method: 'POST', headers: json, body })
          expect(posted.status).toBe(204)
          const read = await app.request(`${path}?offset=-1`)
          // Compared as JSON text: it tells -0 from 0 no more than JSON does.
          expect(JSON.stringify(await read.json())).toBe(JSON.stringify(values))
          // Stored compact: the read is the compact form of each message.
          const text = await (await app.request(`${path}?offset=-1`)).text()
          expect(text).toBe(`[${values.map((v) => JSON.stringify(v)).join(',')}]`)
        },
      ),
      propertyRuns(1000),
    )
  },
  propertyTimeout(1000),
)

test('strings ending in backslashes and escaped quotes do not cut a batch early', async () => {
  const { app } = createApp({ storage: memoryServerStorage() })
  const values = ['a\\', '\\"', '"\\\\', { k: 'x\\\\\\"y', l: ['\\', ','] }, '\\\\']
  expect((await app.request('/v1/stream/esc', { method: 'PUT', headers: json })).status).toBe(201)
  const body = JSON.stringify(values)
  const posted = await app.request('/v1/stream/esc', { method: 'POST', headers: json, body })
  expect(posted.status).toBe(204)
  const text = await (await app.request('/v1/stream/esc?offset=-1')).text()
  expect(text).toBe(body)
})
