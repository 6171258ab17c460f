import {
  InvalidConfigError,
  InvalidRecordError,
  SchemaValidationError,
  SchemaVersionError,
  type SchemaIssue,
} from './errors.ts'
import type { RecordHeaders } from './record.ts'
import type { StandardSchemaV1 } from './standardSchema.ts'
import { utf8Decode } from './utf8.ts'
import { checkTopicName } from './validate.ts'

/** The header a record of a typed topic carries its schema version in (as text, e.g. "3"). */
export const SCHEMA_VERSION_HEADER = 'duality.schema.version'

/**
 * Steps from each older version to the next: `upcast[1]` turns a v1 value into a v2 value, and
 * so on up to the current version. Older shapes are whatever they were, hence `any`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an old version's shape is not known to the types
export type Upcasters = Readonly<Record<number, (value: any) => unknown>>

/**
 * A topic's contract: the schema its values (and optionally keys) must match, the current version
 * of that schema, and how to bring older records up to it. It is code, so it is not stored: pass
 * it to `openLog({ schemas })`, `serve({ schemas })` and `connect(worker, { schemas })`, and name
 * it in `producer.send({ topic })` and `builder.stream()` for the types to follow.
 */
export interface TopicDefinition<V = unknown, K = string> {
  readonly name: string
  readonly schema: StandardSchemaV1<unknown, V>
  readonly key: StandardSchemaV1<unknown, K> | undefined
  /** The current schema version (default 1); sends are stamped with it. */
  readonly version: number
  readonly upcast: Upcasters
}

/** Any typed topic, whatever its types (what registries of topics hold). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of topics of different types
export type AnyTopicDefinition = TopicDefinition<any, any>

type Output<S> = S extends StandardSchemaV1<unknown, infer O> ? O : never

export interface TopicDefinitionInput<
  S extends StandardSchemaV1,
  KS extends StandardSchemaV1 | undefined,
> {
  name: string
  /** A Standard Schema (zod, valibot, arktype...) for the values; tombstones (null) skip it. */
  schema: S
  /** A Standard Schema for the keys; records without a key skip it. */
  key?: KS
  /** The current version, an integer >= 1 (default 1). */
  version?: number
  /** One step per older version: `{ 1: (v1) => v2, 2: (v2) => v3 }` for version 3. */
  upcast?: Upcasters
}

/**
 * Declares a typed topic. Checks at once that the schemas are Standard Schema v1 and that there is
 * an upcast step from every older version, so a gap shows at start rather than at the first old
 * record.
 */
export function defineTopic<
  S extends StandardSchemaV1,
  KS extends StandardSchemaV1 | undefined = undefined,
>(
  input: TopicDefinitionInput<S, KS>,
): TopicDefinition<Output<S>, KS extends StandardSchemaV1 ? Output<KS> : string> {
  const name = checkTopicName(input?.name)
  checkSchema(input.schema, `Topic "${name}": schema`)
  if (input.key !== undefined) checkSchema(input.key, `Topic "${name}": key`)
  const version = input.version ?? 1
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidConfigError(
      `Topic "${name}": version must be an integer >= 1, got ${String(version)}`,
    )
  }
  const upcast = input.upcast ?? {}
  for (let v = 1; v < version; v++) {
    if (typeof upcast[v] !== 'function') {
      throw new InvalidConfigError(
        `Topic "${name}" is at version ${version} but has no upcast step from version ${v} (upcast[${v}]: v${v} => v${v + 1})`,
      )
    }
  }
  return Object.freeze({
    name,
    schema: input.schema as StandardSchemaV1<unknown, Output<S>>,
    key: input.key as never,
    version,
    upcast: Object.freeze({ ...upcast }),
  })
}

function checkSchema(schema: unknown, what: string): void {
  const props = (schema as StandardSchemaV1 | undefined)?.['~standard']
  if (props?.version !== 1 || typeof props.validate !== 'function') {
    throw new InvalidConfigError(
      `${what} is not a Standard Schema v1 (no "~standard" with version 1 and validate())`,
    )
  }
}

/** The name of a topic given by its name or by its definition (which carries the types). */
export function topicName(topic: string | { readonly name: string }): string {
  return typeof topic === 'string' ? topic : topic?.name
}

export function isTopicDefinition(topic: unknown): topic is TopicDefinition {
  return typeof topic === 'object' && topic !== null && 'schema' in topic && 'name' in topic
}

interface Validatable {
  key?: unknown
  value: unknown
  headers?: RecordHeaders | undefined
}

/**
 * Validates a send's messages against the topic's schemas, all before anything is written, and
 * returns them with the schemas' output (a schema may coerce or strip) and the version header.
 * The first failing message (by index) is a SchemaValidationError.
 */
export async function validateMessages<M extends Validatable>(
  def: TopicDefinition,
  messages: readonly M[],
): Promise<M[]> {
  const results = messages.map((m) => {
    if (m === null || typeof m !== 'object') return undefined // the producer names this error
    const value = m.value === undefined || m.value === null ? null : validate(def.schema, m.value)
    const key = def.key && m.key !== undefined && m.key !== null ? validate(def.key, m.key) : null
    return [value, key] as const
  })
  // Only an async schema makes promises; a sync one's results are used as they are.
  const settled = await Promise.all(
    results.map(async (r) => (r ? [await r[0], await r[1]] : undefined)),
  )
  const version = String(def.version)
  return messages.map((m, index) => {
    const r = settled[index]
    if (!r) return m
    const [value, key] = r
    if (value?.issues) throw failure(def.name, index, 'value', value.issues)
    if (key?.issues) throw failure(def.name, index, 'key', key.issues)
    return {
      ...m,
      ...(value ? { value: value.value } : {}),
      ...(key ? { key: key.value } : {}),
      headers: { ...m.headers, [SCHEMA_VERSION_HEADER]: version },
    }
  })
}

function validate(
  schema: StandardSchemaV1,
  value: unknown,
): StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>> {
  return schema['~standard'].validate(value)
}

function failure(
  topic: string,
  index: number,
  field: 'value' | 'key',
  issues: readonly StandardSchemaV1.Issue[],
): SchemaValidationError {
  return SchemaValidationError.of({ topic, index, field, issues: issues.map(issueOf) })
}

function issueOf(issue: StandardSchemaV1.Issue): SchemaIssue {
  const path = (issue.path ?? []).map((p) => {
    const key = typeof p === 'object' && p !== null ? p.key : p
    return typeof key === 'number' ? key : String(key)
  })
  return { message: issue.message, path }
}

/**
 * A stored record's value in the topic's current shape: the version header read (no header is
 * version 1, a record written before the topic had a schema), then each upcast step from there.
 * Returns the headers to show with it, stamped with the current version, so that a processor
 * forwarding them does not pass the new shape off as the old one. The stored record is untouched.
 */
export function upcastRecord(
  def: TopicDefinition,
  value: unknown,
  headers: RecordHeaders | null,
  where: string,
): { value: unknown; headers: RecordHeaders | null } {
  const raw = headers?.[SCHEMA_VERSION_HEADER]
  const text = raw === undefined ? '1' : typeof raw === 'string' ? raw : utf8Decode(raw)
  const from = Number(text)
  if (!Number.isSafeInteger(from) || from < 1) {
    throw new SchemaVersionError(
      `${where} has schema version "${text}" in its ${SCHEMA_VERSION_HEADER} header, which is not a version (an integer >= 1)`,
    )
  }
  if (from > def.version) {
    throw new SchemaVersionError(
      `${where} was written with schema version ${from}, but this code knows "${def.name}" up to version ${def.version}: it was written by newer code (reload to get it)`,
    )
  }
  if (from === def.version) return { value, headers }
  let current = value
  // A tombstone has no shape to change.
  if (current !== null) {
    for (let v = from; v < def.version; v++) {
      try {
        current = def.upcast[v]!(current)
      } catch (cause) {
        throw new InvalidRecordError(
          `${where}: the upcast step from version ${v} to ${v + 1} of "${def.name}" threw: ${String((cause as Error)?.message ?? cause)}`,
          { cause },
        )
      }
    }
  }
  return { value: current, headers: { ...headers, [SCHEMA_VERSION_HEADER]: String(def.version) } }
}
