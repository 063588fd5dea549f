import type { ProblemDetails } from '@qiwei/platform';

/** WeCom's envelope: every answer carries these, errors included (with HTTP 200). */
export interface WecomError {
  errcode: number;
  errmsg: string;
}

export type WecomErrcode = readonly [number, string];

/**
 * A service's table of Qiwei error codes → WeCom errcodes. It must name `VALIDATION_FAILED`
 * (the fallback for any 4xx) and `INTERNAL_ERROR` (any 5xx). A validation failure is looked up
 * as `VALIDATION_FAILED:<field>:<constraint>`, then `VALIDATION_FAILED:<field>`, then
 * `VALIDATION_FAILED`, for the first field WeCom has its own errcode for.
 */
export type WecomErrcodeTable = Readonly<Record<string, WecomErrcode>> & {
  VALIDATION_FAILED: WecomErrcode;
  INTERNAL_ERROR: WecomErrcode;
};

/**
 * The translation of a problem (as the platform's one error filter made it) into WeCom's
 * envelope: WeCom's errcode and message, with Qiwei's code and detail as the hint; a 5xx says no
 * more than its message. `byStatus` names errcodes for 4xx statuses the table does not cover.
 */
export function wecomErrors(
  table: WecomErrcodeTable,
  byStatus: Readonly<Record<number, WecomErrcode>> = {},
): (problem: ProblemDetails) => WecomError {
  const lookup = (problem: ProblemDetails): WecomErrcode => {
    for (const error of problem.errors ?? []) {
      const entry =
        table[`${problem.code}:${error.field}:${error.code}`] ??
        table[`${problem.code}:${error.field}`];
      if (entry) return entry;
    }
    return (
      table[problem.code] ??
      (problem.status >= 500
        ? table.INTERNAL_ERROR
        : (byStatus[problem.status] ?? table.VALIDATION_FAILED))
    );
  };
  return (problem) => {
    const [errcode, message] = lookup(problem);
    if (errcode === -1) return { errcode, errmsg: message };
    const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    return { errcode, errmsg: `${message}, hint: [${problem.code}] ${fields || problem.detail}` };
  };
}
