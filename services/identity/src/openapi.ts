export const IDENTITY_OPENAPI = {
  title: 'Qiwei identity',
  description:
    'Corps (tenants), the department tree, members and tokens. Errors are application/problem+json with a stable `code`.',
  version: '1',
};
