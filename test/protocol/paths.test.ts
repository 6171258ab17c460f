import { expect, test } from 'vitest'
import { adminTopicPath, legalTopicName, partitionPath } from '../../src/protocol/index.ts'

test('a partition is the stream /topics/<topic>/<partition>; its admin path /admin/topics/<topic>', () => {
  expect(partitionPath('payments', 3)).toBe('/topics/payments/3')
  expect(adminTopicPath('fx-rates')).toBe('/admin/topics/fx-rates')
})

// Kafka's Topic.validate: 1-249 of [a-zA-Z0-9._-], and not "." or "..".
test.each([
  ['payments', true],
  ['a.b_c-D9', true],
  ['x'.repeat(249), true],
  ['x'.repeat(250), false],
  ['', false],
  ['.', false],
  ['..', false],
  ['a/b', false],
  ['a b', false],
  ['é', false],
])('legalTopicName(%j) is %s', (name, legal) => {
  expect(legalTopicName(name)).toBe(legal)
})

test('a legal name needs no escaping, so both ends build the same path', () => {
  for (const name of ['payments', 'a.b_c-D9', '...x']) {
    expect(legalTopicName(name)).toBe(true)
    expect(partitionPath(name, 0)).toBe(`/topics/${name}/0`)
  }
})
