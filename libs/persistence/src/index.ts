export { databaseConfigSchema, type DatabaseConfig } from './database-config';
export { asCorpId, CORP_ID_PATTERN, type CorpId, type TenantOwned } from './tenancy';
export {
  createDataSource,
  runMigrations,
  ensureDatabase,
  databaseUrl,
  type DataSourceOptions,
} from './data-source';
export { TransactionRunner, isUniqueViolation } from './transaction-runner';
export { PersistenceModule } from './persistence.module';
export {
  Idempotent,
  IdempotencyInterceptor,
  CreateIdempotencyKeys1763900000000,
  IDEMPOTENCY_HEADER,
} from './idempotency';
export { NotifiedCache, type NotifiedCacheOptions } from './notified-cache';
export {
  pipelinedTransaction,
  sqlLiteral,
  quoteLiteral,
  SqlLiteralError,
  type Pipeline,
  type SqlValue,
} from './pipelined-transaction';
