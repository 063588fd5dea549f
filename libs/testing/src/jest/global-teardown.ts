export default async function globalTeardown(): Promise<void> {
  await globalThis.__QIWEI_TEST_POSTGRES__?.stop();
  globalThis.__QIWEI_TEST_POSTGRES__ = undefined;
}
