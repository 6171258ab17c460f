import type { KTable, Materialized } from './KTable.ts'
import { EmitStrategy, type Windowed } from './windows.ts'

export interface WindowedOptions {
  materialized?: Materialized
}

/**
 * What time and sliding windowed streams share: count / reduce / aggregate as one fold, and the
 * emit strategy. `step` gets the window's previous aggregate, or null for a new window.
 */
export abstract class WindowedKStream<K, V> {
  protected emit: EmitStrategy = EmitStrategy.onWindowUpdate()

  /** onWindowClose() emits each window's final result once, when it closes. */
  emitStrategy(strategy: EmitStrategy): this {
    this.emit = strategy
    return this
  }

  count(options: WindowedOptions = {}): KTable<Windowed<K>, number> {
    return this.aggregate(
      () => 0,
      (_k, _v, n) => n + 1,
      options,
    )
  }

  reduce(
    reducer: (aggregate: V, value: V) => V,
    options: WindowedOptions = {},
  ): KTable<Windowed<K>, V> {
    return this.fold<V>((_k, v, old) => (old === null ? v : reducer(old, v)), options)
  }

  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    options: WindowedOptions = {},
  ): KTable<Windowed<K>, VA> {
    return this.fold<VA>((k, v, old) => aggregator(k, v, old ?? initializer()), options)
  }

  protected abstract fold<VA>(
    step: (key: K, value: V, old: VA | null) => VA,
    options: WindowedOptions,
  ): KTable<Windowed<K>, VA>
}
