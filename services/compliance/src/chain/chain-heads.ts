import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { ArchiveStorage } from '../media/archive-storage';
import { parseSigningKeys, signedHeadText, signWith, type SigningKey } from './chain-signing-keys';
import type { ChainName } from './chain-tips';
import { storedHeadKey, type StoredHead } from './stored-heads';

// One signer at a time across replicas.
const SIGNER_LOCK = 4_240_106;

/**
 * Signs each corp's chain tips (archive and access log) every CHAIN_HEAD_INTERVAL_SECONDS,
 * when they moved, with the first COMPLIANCE_SIGNING_KEY, into `chain_heads` (append-only), and
 * writes each signed head to the archive's bucket (`chain-heads/<corp>/<chain>/<seq>.json`; an
 * object-locked bucket in production), outside the database an attacker of the archive would
 * have to rewrite. A head not yet written (object storage down) is written at the next interval.
 * A signed head pins the chain up to it: rewriting any record before it — even recomputing
 * every later hash — no longer matches a signature only the key holder can make.
 */
@Injectable()
export class ChainHeadSigner implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly key: SigningKey;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly storage: ArchiveStorage,
  ) {
    this.key = parseSigningKeys(config.COMPLIANCE_SIGNING_KEY)[0];
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.signHeads().catch((err: unknown) =>
        this.logger.error({ err }, 'signing chain heads failed; retried next interval'),
      );
    }, this.config.CHAIN_HEAD_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /**
   * Signs every tip that moved since its last signed head, then writes every signed head not yet
   * in object storage there; returns how many were signed.
   */
  signHeads(): Promise<number> {
    this.running ??= (async () => {
      const signed = await this.sign();
      await this.store();
      return signed;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async store(): Promise<void> {
    for (;;) {
      const heads = await this.dataSource.query<
        {
          corp_id: string;
          chain: ChainName;
          chain_seq: string;
          hash: Buffer;
          signed_at: Date;
          key_id: string;
          signature: Buffer;
        }[]
      >(
        `SELECT h.* FROM chain_heads h
          WHERE NOT EXISTS (SELECT 1 FROM chain_head_objects o WHERE o.corp_id = h.corp_id
                              AND o.chain = h.chain AND o.chain_seq = h.chain_seq)
          ORDER BY h.signed_at, h.corp_id, h.chain, h.chain_seq LIMIT 100`,
      );
      if (!heads.length) return;
      for (const h of heads) {
        const head: StoredHead = {
          format: 'qiwei-archive-head/v1',
          corpId: h.corp_id,
          chain: h.chain,
          chainSeq: Number(h.chain_seq),
          hash: h.hash.toString('hex'),
          signedAt: h.signed_at.toISOString(),
          keyId: h.key_id,
          signature: h.signature.toString('base64'),
        };
        const key = storedHeadKey(head.corpId, head.chain, head.chainSeq);
        const body = Buffer.from(JSON.stringify(head));
        await this.storage.objects.put(
          this.storage.bucket,
          key,
          body,
          body.length,
          'application/json',
        );
        await this.dataSource.query(
          `INSERT INTO chain_head_objects (corp_id, chain, chain_seq, object_key, stored_at)
           VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING`,
          [head.corpId, head.chain, head.chainSeq, key],
        );
      }
    }
  }

  private async sign(): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      const [{ locked }] = await em.query<{ locked: boolean }[]>(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [SIGNER_LOCK],
      );
      if (!locked) return 0;
      const tips = await em.query<
        { corp_id: string; chain: string; chain_seq: string; hash: Buffer }[]
      >(
        `SELECT t.corp_id, t.chain, t.chain_seq, t.hash FROM chain_tips t
          WHERE t.chain_seq > 0 AND NOT EXISTS (
            SELECT 1 FROM chain_heads h
             WHERE h.corp_id = t.corp_id AND h.chain = t.chain AND h.chain_seq = t.chain_seq)`,
      );
      const signedAt = new Date();
      for (const tip of tips) {
        const head = {
          corpId: tip.corp_id,
          chain: tip.chain,
          chainSeq: Number(tip.chain_seq),
          hash: tip.hash,
          signedAt,
        };
        await em.query(
          `INSERT INTO chain_heads (corp_id, chain, chain_seq, hash, signed_at, key_id, signature)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            head.corpId,
            head.chain,
            head.chainSeq,
            head.hash,
            signedAt,
            this.key.id,
            signWith(this.key, signedHeadText(head)),
          ],
        );
      }
      return tips.length;
    });
  }
}
