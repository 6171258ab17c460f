/** duality/server/sqlite: the embedded engine's storage in one SQLite file (better-sqlite3, Node). */
export { sqliteServerStorage, type SqliteServerStorageOptions } from './sqliteServerStorage.ts'
