export { idbStorage, type IdbStorage, type IdbStorageOptions } from '../storage/idbStorage.ts'
