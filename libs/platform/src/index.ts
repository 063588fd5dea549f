export {
  platformConfigSchema,
  loadConfig,
  ConfigurationError,
  type PlatformConfig,
} from './config/load-config';
export { createLogger, PinoNestLogger, REDACTED_PATHS, type Logger } from './logging/logger';
export {
  DomainException,
  ValidationFailedException,
  NotFoundException,
  UnauthorizedException,
  ForbiddenException,
  type FieldError,
} from './errors/domain.exception';
export { toProblem, PROBLEM_CONTENT_TYPE, type ProblemDetails } from './errors/problem-details';
export {
  HealthRegistry,
  type ReadinessCheck,
  type ReadinessReport,
} from './health/health.registry';
export { PlatformModule, LOGGER, METRICS_REGISTRY } from './bootstrap/platform.module';
export { PositiveIntPipe } from './http/pipes';
export {
  createValidationPipe,
  registerFastValidation,
  type FastValidation,
} from './errors/validation';
export {
  PageCursor,
  PageLimit,
  PageQuery,
  DEFAULT_PAGE_SIZE,
  InvalidCursorException,
  encodeCursor,
  decodeCursor,
} from './http/pagination';
export { createServiceApp, type ServiceAppOptions } from './bootstrap/create-service-app';
export { runService, type ServiceDefinition } from './bootstrap/run-service';
