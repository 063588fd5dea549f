// The generic cursor machinery lives in @qiwei/platform; identity's own sort keys are below.
export {
  PageQuery,
  DEFAULT_PAGE_SIZE,
  InvalidCursorException,
  encodeCursor,
  decodeCursor,
} from '@qiwei/platform';

export const isIdCursor = (v: unknown): v is { id: number } =>
  typeof v === 'object' && v !== null && Number.isInteger((v as { id: unknown }).id);

export const isUseridCursor = (v: unknown): v is { userid: string } =>
  typeof v === 'object' && v !== null && typeof (v as { userid: unknown }).userid === 'string';
