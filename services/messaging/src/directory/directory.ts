import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnModuleInit,
} from '@nestjs/common';
import type { AppStanding, MemberStanding } from '@qiwei/auth';
import { NotifiedCache } from '@qiwei/persistence';
import { LOGGER, type Logger } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';

/** Where the directory's triggers announce standing changes (migration 1766400000000). */
export const STANDING_CHANNEL = 'qiwei_messaging_standing';

type Standing = MemberStanding | AppStanding | null;

/**
 * Messaging's projection of identity's members (from `qiwei.identity.member.v1`): who exists,
 * who is active, and since when their tokens are valid.
 *
 * Standing (what every request's revocation check reads) is cached in the instance and
 * forgotten by every instance as soon as a change commits: triggers on `directory_members` and
 * `directory_apps` notify STANDING_CHANNEL with the row's key (see NotifiedCache).
 */
@Injectable()
export class Directory implements OnModuleInit, BeforeApplicationShutdown {
  private readonly standings?: NotifiedCache<Standing>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(MESSAGING_CONFIG) config: MessagingConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    if (config.STANDING_CACHE_TTL_MS > 0)
      this.standings = new NotifiedCache<Standing>({
        databaseUrl: config.DATABASE_URL,
        channel: STANDING_CHANNEL,
        ttlMs: config.STANDING_CACHE_TTL_MS,
        maxEntries: 100_000,
        applicationName: 'qiwei-messaging-standing',
        onError: (error) =>
          logger.warn({ err: error }, 'standing cache: listening session lost; not caching'),
      });
  }

  async onModuleInit(): Promise<void> {
    await this.standings?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.standings?.stop();
  }

  /** Whether standing is served from the instance's cache right now (it is while listening). */
  get cachingStanding(): boolean {
    return this.standings?.active ?? false;
  }

  /** Of these userids, the ones that are active members of the corp. */
  async active(em: EntityManager, corpId: string, userids: string[]): Promise<Set<string>> {
    if (!userids.length) return new Set();
    const rows = await em.query<{ userid: string }[]>(
      `SELECT userid FROM directory_members
        WHERE corp_id = $1 AND userid = ANY($2::text[]) AND status = 'active'`,
      [corpId, userids],
    );
    return new Set(rows.map((r) => r.userid));
  }

  /** The active member's name, for a contact card (名片); null when not an active member. */
  async nameOf(em: EntityManager, corpId: string, userid: string): Promise<string | null> {
    const [row] = await em.query<{ name: string }[]>(
      `SELECT name FROM directory_members WHERE corp_id = $1 AND userid = $2 AND status = 'active'`,
      [corpId, userid],
    );
    return row?.name ?? null;
  }

  async standing(corpId: string, userid: string): Promise<MemberStanding | null> {
    const load = () => this.loadStanding(corpId, userid);
    return this.standings
      ? (this.standings.get(`m/${corpId}/${userid}`, load) as Promise<MemberStanding | null>)
      : load();
  }

  async appStanding(corpId: string, agentId: number): Promise<AppStanding | null> {
    const load = () => this.loadAppStanding(corpId, agentId);
    return this.standings
      ? (this.standings.get(`a/${corpId}/${agentId}`, load) as Promise<AppStanding | null>)
      : load();
  }

  private async loadStanding(corpId: string, userid: string): Promise<MemberStanding | null> {
    const [row] = await this.dataSource.query<
      { status: string; tokens_valid_after: Date | null }[]
    >(
      'SELECT status, tokens_valid_after FROM directory_members WHERE corp_id = $1 AND userid = $2',
      [corpId, userid],
    );
    return row ? { status: row.status, tokensValidAfter: row.tokens_valid_after } : null;
  }

  private async loadAppStanding(corpId: string, agentId: number): Promise<AppStanding | null> {
    const [row] = await this.dataSource.query<
      { deleted: boolean; tokens_valid_after: Date | null }[]
    >(
      'SELECT deleted, tokens_valid_after FROM directory_apps WHERE corp_id = $1 AND agentid = $2',
      [corpId, agentId],
    );
    return row ? { deleted: row.deleted, tokensValidAfter: row.tokens_valid_after } : null;
  }
}
