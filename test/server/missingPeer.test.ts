import { expect, test } from 'vitest'
import { importPeer, MissingPeerError } from '../../src/server/missingPeer.ts'

// What an app sees when it runs a part of the server whose optional peer it did not install.
test('a missing peer is named, with what needs it and the command that installs it', async () => {
  const loading = importPeer(
    // A specifier built at run time, so that no bundler or type checker resolves it.
    () => import(['duality', 'no-such-peer'].join('-')),
    ['hono', 'duality-no-such-peer'],
    'duality serve',
  )
  await expect(loading).rejects.toBeInstanceOf(MissingPeerError)
  await expect(loading).rejects.toMatchObject({
    name: 'MissingPeerError',
    packages: ['duality-no-such-peer', 'hono'],
    message:
      'duality serve needs the packages "duality-no-such-peer", "hono": npm install duality-no-such-peer hono',
  })
})

test('any other failure to load passes through as it is', async () => {
  const failure = new Error('a syntax error in the module')
  await expect(importPeer(() => Promise.reject(failure), ['hono'], 'x')).rejects.toBe(failure)
})
