import * as v from 'valibot'
import { z } from 'zod'
import { defineTopic } from '../../src/index.ts'

// The third version of a topic, shared by the typed worker and the page (as an app's module is).
export const payments = defineTopic({
  name: 'payments',
  schema: z.object({ amount: z.object({ value: z.number(), currency: z.string() }) }),
  key: v.string(),
  version: 3,
  upcast: {
    1: (p: { cents: number }) => ({ amount: p.cents / 100, currency: 'EUR' }),
    2: (p: { amount: number; currency: string }) => ({
      amount: { value: p.amount, currency: p.currency },
    }),
  },
})
