export {
  ROLES,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  type Role,
  type Principal,
  type AppRange,
  appSubject,
} from './principal';
export {
  DEFAULT_VERIFIED_TOKEN_CACHE,
  TOKEN_VERIFIER,
  JwtTokenVerifier,
  type TokenVerifier,
  type VerifiedTokenCacheOptions,
} from './token-verifier';
export {
  BearerAuthGuard,
  PlatformAdminGuard,
  PLATFORM_TOKEN,
  RequireRoles,
  CurrentPrincipal,
} from './guards';
export {
  RevocationAwareVerifier,
  type MemberStanding,
  type MemberStandingLookup,
  type AppStanding,
  type AppStandingLookup,
} from './revocation';
