import { randomBytes } from 'node:crypto';
import * as reference from '@wecom/crypto';
import {
  sealWecomCallback,
  wecomDecrypt,
  wecomEncrypt,
  wecomSignature,
} from './wecom-callback-crypto';

/** Checked against `@wecom/crypto`, an independent implementation of WeCom's scheme. */
describe('WeCom callback crypto', () => {
  const aesKey = () => randomBytes(32).toString('base64').replace(/[+/=]/g, 'A').slice(0, 43);
  const messages = [
    '<xml><Event><![CDATA[batch_job_result]]></Event></xml>',
    '',
    '中文消息'.repeat(100),
    'x'.repeat(31),
    'x'.repeat(32),
  ];

  it('encrypts what @wecom/crypto decrypts, for messages of every padding length', () => {
    for (const message of messages) {
      const key = aesKey();
      const decrypted = reference.decrypt(key, wecomEncrypt(key, message, 'ww1234567890abcdef'));
      expect(decrypted.message).toBe(message);
      expect(decrypted.id).toBe('ww1234567890abcdef');
    }
  });

  it('decrypts what @wecom/crypto encrypts, and produces the same bytes for the same random', () => {
    for (const message of messages) {
      const key = aesKey();
      const random = randomBytes(16);
      const theirs = reference.encrypt(key, message, 'wwcorp', random);
      expect(wecomDecrypt(key, theirs)).toEqual({ message, receiveId: 'wwcorp' });
      expect(wecomEncrypt(key, message, 'wwcorp', random)).toBe(theirs);
    }
  });

  it('signs as @wecom/crypto does: SHA1 of the sorted token, timestamp, nonce and ciphertext', () => {
    const sealed = sealWecomCallback({
      token: 'QDG6eK',
      encodingAesKey: aesKey(),
      receiveId: 'wwcorp',
      agentId: 1000002,
      message: '<xml/>',
      timestamp: '1409659813',
      nonce: '1372623149',
    });
    expect(sealed.msgSignature).toBe(
      reference.getSignature('QDG6eK', '1409659813', '1372623149', sealed.encrypt),
    );
    expect(wecomSignature('b', 'a', 'd', 'c')).toBe(reference.getSignature('b', 'a', 'd', 'c'));
    expect(sealed.body).toBe(
      `<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><Encrypt><![CDATA[${sealed.encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`,
    );
  });

  it('refuses a key that is not 43 letters and digits, and a ciphertext that is not one', () => {
    expect(() => wecomEncrypt('short', 'm', 'c')).toThrow('43 letters and digits');
    expect(() => wecomDecrypt(aesKey(), Buffer.alloc(32).toString('base64'))).toThrow();
  });
});
