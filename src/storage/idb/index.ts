export { idbStorage, type IdbStorage, type IdbStorageOptions } from './idbStorage.ts'
