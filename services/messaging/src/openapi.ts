export const MESSAGING_OPENAPI = {
  title: 'Qiwei messaging',
  description:
    'Conversations (1:1 and groups), messages with gap-free sequence numbers, read positions, recall and urgent reminders, media, app messages, announcements and group robots. Errors are application/problem+json with a stable `code` under /v1; under /cgi-bin (the WeCom-compatible API, tag `wecom`, and the robot webhook) they are WeCom’s envelope `{errcode, errmsg}` with HTTP 200.',
  version: '1',
};
