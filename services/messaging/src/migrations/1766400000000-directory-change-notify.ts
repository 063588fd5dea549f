import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every instance caches members' and apps' standing (the token revocation check of each
 * request) and forgets an entry when it changes: these triggers notify
 * `qiwei_messaging_standing` with the row's key in the transaction that changes it, whoever
 * writes it (the projections, or anyone by hand). Only the columns the check reads count.
 * PostgreSQL delivers the notification once the transaction has committed, never for one that
 * rolled back.
 */
export class DirectoryChangeNotify1766400000000 implements MigrationInterface {
  name = 'DirectoryChangeNotify1766400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION directory_member_standing_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE r record;
      BEGIN
        IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
        PERFORM pg_notify('qiwei_messaging_standing', 'm/' || r.corp_id || '/' || r.userid);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER directory_members_standing_changed
      AFTER INSERT OR DELETE ON directory_members
      FOR EACH ROW EXECUTE FUNCTION directory_member_standing_notify()`);
    await q.query(`
      CREATE TRIGGER directory_members_standing_updated
      AFTER UPDATE ON directory_members FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status
            OR OLD.tokens_valid_after IS DISTINCT FROM NEW.tokens_valid_after
            OR OLD.corp_id IS DISTINCT FROM NEW.corp_id OR OLD.userid IS DISTINCT FROM NEW.userid)
      EXECUTE FUNCTION directory_member_standing_notify()`);
    await q.query(`
      CREATE FUNCTION directory_app_standing_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE r record;
      BEGIN
        IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
        PERFORM pg_notify('qiwei_messaging_standing', 'a/' || r.corp_id || '/' || r.agentid);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER directory_apps_standing_changed
      AFTER INSERT OR DELETE ON directory_apps
      FOR EACH ROW EXECUTE FUNCTION directory_app_standing_notify()`);
    await q.query(`
      CREATE TRIGGER directory_apps_standing_updated
      AFTER UPDATE ON directory_apps FOR EACH ROW
      WHEN (OLD.deleted IS DISTINCT FROM NEW.deleted
            OR OLD.tokens_valid_after IS DISTINCT FROM NEW.tokens_valid_after
            OR OLD.corp_id IS DISTINCT FROM NEW.corp_id OR OLD.agentid IS DISTINCT FROM NEW.agentid)
      EXECUTE FUNCTION directory_app_standing_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER directory_apps_standing_updated ON directory_apps');
    await q.query('DROP TRIGGER directory_apps_standing_changed ON directory_apps');
    await q.query('DROP FUNCTION directory_app_standing_notify()');
    await q.query('DROP TRIGGER directory_members_standing_updated ON directory_members');
    await q.query('DROP TRIGGER directory_members_standing_changed ON directory_members');
    await q.query('DROP FUNCTION directory_member_standing_notify()');
  }
}
