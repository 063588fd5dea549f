export const MESSAGING_OPENAPI = {
  title: 'Qiwei messaging',
  description:
    'Conversations (1:1 and groups), messages with gap-free sequence numbers, read positions and recall. Errors are application/problem+json with a stable `code`.',
  version: '1',
};
