import { appSubject, type Principal } from '@qiwei/auth';
import type { CorpId } from '@qiwei/persistence';
import type { RequestContext } from '../audit/request-context';

/**
 * The app that submitted a job, as the job acts for it in the background: its range and
 * permissions are resolved again (as they are now) for every chunk, so an app whose rights were
 * narrowed meanwhile does not keep the old ones.
 */
export function batchPrincipal(job: { corpId: CorpId; jobid: string; agentid: number }): Principal {
  return {
    corpId: job.corpId,
    userId: appSubject(job.agentid),
    roles: [],
    tokenId: `batch:${job.jobid}`,
    issuedAt: new Date(),
    app: { agentId: job.agentid, range: { departmentIds: [], userids: [], tagIds: [] } },
  };
}

/** Who acts in the audit log for a background job: the app, from the request's address. */
export function batchActor(job: {
  agentid: number;
  requestIp: string | null;
  requestId: string | null;
}): RequestContext {
  return {
    actorType: 'app',
    actorId: appSubject(job.agentid),
    ip: job.requestIp,
    requestId: job.requestId,
  };
}
