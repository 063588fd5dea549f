export { ObjectStorage, type ObjectInfo, type PresignedMultipart } from './object-storage';
export { storageConfigSchema, type StorageConfig } from './storage-config';
