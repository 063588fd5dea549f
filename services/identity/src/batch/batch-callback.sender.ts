import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import { LOGGER, type Logger } from '@qiwei/platform';
import { sealWecomCallback, wecomXmlText } from '@qiwei/wecom';
import { DataSource } from 'typeorm';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { resealStaleSecrets } from '../crypto/reseal-stale-secrets';
import { SecretCipher } from '../crypto/secret-cipher';
import { BatchJobsRepository, type DueCallback } from './batch-jobs.repository';

const POLL_INTERVAL_MS = 1_000;

/** The callback's token and EncodingAESKey, sealed at rest until the callback is done. */
export interface CallbackSecret {
  token: string;
  encodingaeskey: string;
}

export const callbackSecretContext = (corpId: CorpId, jobid: string) =>
  `wecom-batch-callback/${corpId}/${jobid}`;

/** WeCom's batch_job_result event, as the receiver decrypts it. */
export function batchJobResultXml(
  callback: Pick<DueCallback, 'corpId' | 'jobid' | 'type' | 'errcode' | 'errmsg'>,
  now: Date,
): string {
  return (
    '<xml>' +
    wecomXmlText('ToUserName', callback.corpId) +
    wecomXmlText('FromUserName', 'sys') +
    `<CreateTime>${Math.floor(now.getTime() / 1000)}</CreateTime>` +
    wecomXmlText('MsgType', 'event') +
    wecomXmlText('Event', 'batch_job_result') +
    '<BatchJob>' +
    wecomXmlText('JobId', callback.jobid) +
    wecomXmlText('JobType', callback.type) +
    `<ErrCode>${callback.errcode}</ErrCode>` +
    wecomXmlText('ErrMsg', callback.errmsg) +
    '</BatchJob></xml>'
  );
}

/**
 * Delivers finished jobs' callbacks: POSTs WeCom's batch_job_result event, encrypted and signed
 * with the callback's token and EncodingAESKey, to its URL. Any 2xx answer delivers it; otherwise
 * it is tried again after BATCH_CALLBACK_RETRY_DELAY_MS, at most BATCH_CALLBACK_MAX_ATTEMPTS
 * times, then recorded as failed on the job. The job itself is finished before its callback is
 * tried: a callback never holds it up. Due callbacks live in the jobs table (leased with SKIP
 * LOCKED), so a restart or a second replica loses or repeats none.
 */
@Injectable()
export class BatchCallbackSender
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private stopping = false;
  private loop?: Promise<void>;
  private pending = false;
  private wake: () => void = () => undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: BatchJobsRepository,
    private readonly cipher: SecretCipher,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await resealStaleSecrets<{ corp_id: CorpId; jobid: string }>(this.dataSource, this.cipher, {
      table: 'wecom_batch_jobs',
      column: 'callback_secret',
      keyColumns: ['corp_id', 'jobid'],
      context: (row) => callbackSecretContext(row.corp_id, row.jobid),
    });
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
  }

  seal(corpId: CorpId, jobid: string, secret: CallbackSecret): string {
    return this.cipher.seal(
      Buffer.from(JSON.stringify(secret)),
      callbackSecretContext(corpId, jobid),
    );
  }

  /** A job finished here: its callback is due now. */
  notify(): void {
    this.pending = true;
    this.wake();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let delivered = false;
      try {
        this.pending = false;
        delivered = await this.deliverNext();
      } catch (error) {
        this.logger.error({ err: error }, 'batch callbacks: leasing a callback failed');
      }
      if (!delivered && !this.pending && !this.stopping) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), POLL_INTERVAL_MS);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = () => undefined;
        resolve();
      };
    });
  }

  private async deliverNext(): Promise<boolean> {
    const em = this.dataSource.manager;
    const callback = await this.jobs.leaseDueCallback(
      em,
      this.config.BATCH_CALLBACK_TIMEOUT_MS + 30_000,
    );
    if (!callback) return false;
    const error = await this.post(callback);
    if (error === null) {
      await this.jobs.endCallback(em, callback, 'delivered', null);
    } else if (callback.callbackAttempts >= this.config.BATCH_CALLBACK_MAX_ATTEMPTS) {
      this.logger.warn(
        { corpId: callback.corpId, jobid: callback.jobid, error },
        'batch callback: given up',
      );
      await this.jobs.endCallback(
        em,
        callback,
        'failed',
        `${error} (after ${callback.callbackAttempts} attempts)`,
      );
    } else {
      await this.jobs.retryCallback(em, callback, error, this.config.BATCH_CALLBACK_RETRY_DELAY_MS);
    }
    return true;
  }

  /** Null when delivered; otherwise why not. */
  private async post(callback: DueCallback): Promise<string | null> {
    let secret: CallbackSecret;
    try {
      secret = JSON.parse(
        this.cipher
          .open(callback.callbackSecret, callbackSecretContext(callback.corpId, callback.jobid))
          .toString('utf8'),
      ) as CallbackSecret;
    } catch (error) {
      return `the callback's secret cannot be opened: ${(error as Error).message}`;
    }
    const sealed = sealWecomCallback({
      token: secret.token,
      encodingAesKey: secret.encodingaeskey,
      receiveId: callback.corpId,
      agentId: callback.agentid,
      message: batchJobResultXml(callback, new Date()),
    });
    const url = new URL(callback.callbackUrl);
    url.searchParams.set('msg_signature', sealed.msgSignature);
    url.searchParams.set('timestamp', sealed.timestamp);
    url.searchParams.set('nonce', sealed.nonce);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body: sealed.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.BATCH_CALLBACK_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return `${(error as Error).name}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`.slice(
        0,
        500,
      );
    }
  }
}
