import { toProblem, ValidationFailedException } from '@qiwei/platform';
import { MemberNotFoundException } from '../members/member.exceptions';
import { toWecomError } from './wecom-errors';

describe('toWecomError', () => {
  it('maps a domain code to WeCom’s errcode, with Qiwei’s code and detail as the hint', () => {
    expect(toWecomError(toProblem(new MemberNotFoundException('ghost')))).toEqual({
      errcode: 60111,
      errmsg: 'userid not found, hint: [MEMBER_NOT_FOUND] Member ghost does not exist.',
    });
  });

  it('picks the errcode of the first failing field WeCom has one for, missing or invalid', () => {
    const failed = (field: string, code: string) =>
      toWecomError(toProblem(new ValidationFailedException([{ field, code, message: 'bad' }])));
    expect(failed('userid', 'isDefined').errcode).toBe(41009);
    expect(failed('userid', 'matches').errcode).toBe(40003);
    expect(failed('mobile', 'matches')).toEqual({
      errcode: 60103,
      errmsg: 'mobile invalid, hint: [VALIDATION_FAILED] mobile: bad',
    });
    expect(failed('position', 'maxLength').errcode).toBe(40058);
  });

  it('answers an unexpected error with -1 "system busy" and nothing of the error', () => {
    const answer = toWecomError(toProblem(new Error('password=hunter2 at Object.<anonymous>')));
    expect(answer).toEqual({ errcode: -1, errmsg: 'system busy' });
  });

  it('falls back on the HTTP status for a code the table does not name', () => {
    const problem = { type: '', title: '', detail: 'd' };
    expect(toWecomError({ ...problem, status: 403, code: 'SOMETHING_NEW' }).errcode).toBe(60011);
    expect(toWecomError({ ...problem, status: 401, code: 'SOMETHING_NEW' }).errcode).toBe(40014);
    expect(toWecomError({ ...problem, status: 409, code: 'SOMETHING_NEW' }).errcode).toBe(40058);
    expect(toWecomError({ ...problem, status: 503, code: 'SOMETHING_NEW' }).errcode).toBe(-1);
  });
});
