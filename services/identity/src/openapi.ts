export const IDENTITY_OPENAPI = {
  title: 'Qiwei identity',
  description:
    'Corps (tenants), the department tree, members and tokens. Errors are application/problem+json with a stable `code`; the WeCom-compatible API under /cgi-bin (tag `wecom`) answers every call with HTTP 200 and WeCom’s `{errcode, errmsg}`.',
  version: '1',
};
