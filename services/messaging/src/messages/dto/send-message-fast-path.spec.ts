import type { ArgumentMetadata } from '@nestjs/common';
import { createValidationPipe, ValidationFailedException } from '@qiwei/platform';
import { fastSendMessage, SendMessageDto } from './message.dto';

const metadata: ArgumentMetadata = { type: 'body', metatype: SendMessageDto, data: undefined };
const classValidator = createValidationPipe({ fastPaths: false });
const globalPipe = createValidationPipe();

/** class-validator's answer: the DTO, or the field errors it refuses the input with. */
async function slow(value: unknown): Promise<{ dto?: unknown; errors?: unknown }> {
  try {
    return { dto: await classValidator.transform(value, metadata) };
  } catch (error) {
    if (!(error instanceof ValidationFailedException)) throw error;
    return { errors: error.errors };
  }
}

const id = '0b7c6a8e-5d2f-4f4e-9a63-3c1d2b4e5f60';
const long = (n: number, c = 'a') => c.repeat(n);

// Input the fast path takes: it must answer exactly as class-validator does.
const accepted: unknown[] = [
  { clientMsgId: 'c-1', type: 'text', text: '你好 hello' },
  { clientMsgId: long(64, 'Z'), type: 'markdown', text: '**bold**' },
  { clientMsgId: 'c_2', type: 'text', text: 'x', mentions: ['alice', '@all', 'a.b@c-d_e'] },
  { clientMsgId: 'c3', type: 'text', text: 'x', mentions: [] },
  { clientMsgId: 'c4', type: 'text', text: 'x', quoteSeq: 1 },
  { clientMsgId: 'c5', type: 'text', text: 'x', quoteSeq: 2_147_483_647 },
  { clientMsgId: 'c6', type: 'text', text: ' \n x \n' },
  { clientMsgId: 'c7', type: 'text', text: long(1_048_576) },
  { clientMsgId: 'c8', type: 'text', text: '😀'.repeat(10) },
  { clientMsgId: 'c9', type: 'image', mediaId: id },
  { clientMsgId: 'c10', type: 'file', mediaId: id.toUpperCase() },
  { clientMsgId: 'c11', type: 'voice', mediaId: id, mentions: ['bob'] },
  { clientMsgId: 'c12', type: 'video', mediaId: id, quoteSeq: 7 },
  { clientMsgId: 'c13', type: 'text', text: 'x', mediaId: id }, // valid here; the controller refuses the mix
  { clientMsgId: 'c14', type: 'image', mediaId: id, text: 'caption' },
  { clientMsgId: 'c15', type: 'text', text: 'x', mentions: Array.from({ length: 100 }, () => 'm') },
];

// Input the fast path must decline: class-validator refuses it, or it is a shape (nested
// objects, null fields) that class-validator alone handles.
const declined: unknown[] = [
  null,
  'text',
  42,
  [],
  [{ clientMsgId: 'c', type: 'text', text: 'x' }],
  {},
  { type: 'text', text: 'x' },
  { clientMsgId: '', type: 'text', text: 'x' },
  { clientMsgId: long(65), type: 'text', text: 'x' },
  { clientMsgId: 'bad id', type: 'text', text: 'x' },
  { clientMsgId: 7, type: 'text', text: 'x' },
  { clientMsgId: 'c', type: 'sticker', text: 'x' },
  { clientMsgId: 'c', type: 'TEXT', text: 'x' },
  { clientMsgId: 'c', text: 'x' },
  { clientMsgId: 'c', type: 'text' },
  { clientMsgId: 'c', type: 'text', text: '' },
  { clientMsgId: 'c', type: 'text', text: ' \n\t ' },
  { clientMsgId: 'c', type: 'text', text: null },
  { clientMsgId: 'c', type: 'text', text: 5 },
  { clientMsgId: 'c', type: 'text', text: long(1_048_577) },
  { clientMsgId: 'c', type: 'text', text: 'x', extra: 1 },
  { clientMsgId: 'c', type: 'text', text: 'x', corpId: 'wwother' },
  { clientMsgId: 'c', type: 'image' },
  { clientMsgId: 'c', type: 'image', mediaId: 'not-a-uuid' },
  { clientMsgId: 'c', type: 'image', mediaId: null },
  { clientMsgId: 'c', type: 'text', text: 'x', mediaId: 'nope' },
  { clientMsgId: 'c', type: 'text', text: 'x', mentions: 'alice' },
  { clientMsgId: 'c', type: 'text', text: 'x', mentions: null },
  { clientMsgId: 'c', type: 'text', text: 'x', mentions: ['bad mention'] },
  { clientMsgId: 'c', type: 'text', text: 'x', mentions: [1] },
  { clientMsgId: 'c', type: 'text', text: 'x', mentions: Array.from({ length: 101 }, () => 'm') },
  { clientMsgId: 'c', type: 'text', text: 'x', quoteSeq: 0 },
  { clientMsgId: 'c', type: 'text', text: 'x', quoteSeq: 1.5 },
  { clientMsgId: 'c', type: 'text', text: 'x', quoteSeq: '3' },
  { clientMsgId: 'c', type: 'text', text: 'x', quoteSeq: 2_147_483_648 },
  { clientMsgId: 'c', type: 'text', text: 'x', quoteSeq: null },
  { clientMsgId: 'c', type: 'location', location: { latitude: 1, longitude: 2, name: 'p' } },
  { clientMsgId: 'c', type: 'link', link: { title: 't', url: 'https://example.com' } },
  { clientMsgId: 'c', type: 'contact_card', contactCard: { userid: 'bob' } },
  { clientMsgId: 'c', type: 'text', text: 'x', location: null },
  Object.assign(Object.create({ inherited: true }) as object, {
    clientMsgId: 'c',
    type: 'text',
    text: 'x',
  }),
];

describe('send message fast path', () => {
  it.each(accepted.map((value) => [value]))(
    'takes %j and answers exactly as class-validator does',
    async (value) => {
      const fast = fastSendMessage(value);
      expect(fast).toBeInstanceOf(SendMessageDto);
      const reference = await slow(value);
      expect(reference.errors).toBeUndefined();
      expect(reference.dto).toBeInstanceOf(SendMessageDto);
      expect(fast).toStrictEqual(reference.dto);
      // And through the global pipe, which takes the fast path.
      expect(await globalPipe.transform(value, metadata)).toStrictEqual(reference.dto);
    },
  );

  it.each(declined.map((value) => [value]))(
    'declines %j, leaving the answer to class-validator',
    async (value) => {
      expect(fastSendMessage(value)).toBeUndefined();
      // The global pipe answers as class-validator does: the same DTO or the same errors.
      const reference = await slow(value);
      let answer: { dto?: unknown; errors?: unknown };
      try {
        answer = { dto: await globalPipe.transform(value, metadata) };
      } catch (error) {
        answer = { errors: (error as ValidationFailedException).errors };
      }
      expect(answer).toStrictEqual(reference);
    },
  );

  it('covers the invalid cases with real errors (this list is not vacuous)', async () => {
    const refused = await Promise.all(declined.map(slow));
    // Every declined input but the valid nested and null-field shapes is refused.
    expect(refused.filter((r) => r.errors).length).toBeGreaterThanOrEqual(declined.length - 8);
  });
});
