import { ValidationFailedException } from '@qiwei/platform';
import type {
  CreateMemberInput,
  MemberProfileInput,
  MembershipInput,
  UpdateMemberInput,
} from '../members/members.service';
import {
  WECOM_GENDERS,
  type WecomCreateUserDto,
  type WecomUpdateUserDto,
} from './dto/wecom-user.dto';

type WecomUserBody = WecomCreateUserDto | WecomUpdateUserDto;

/** `department`, `order` and `is_leader_in_dept` are parallel arrays in WeCom. */
function memberships(body: WecomUserBody): MembershipInput[] | undefined {
  const { department, order, is_leader_in_dept: leader } = body;
  if (!department) {
    if (order || leader) {
      throw new ValidationFailedException([
        {
          field: 'department',
          code: 'REQUIRED_WITH_ORDER',
          message: 'order and is_leader_in_dept need department (Qiwei replaces every membership)',
        },
      ]);
    }
    return undefined;
  }
  for (const [field, values] of [
    ['order', order],
    ['is_leader_in_dept', leader],
  ] as const) {
    if (values && values.length !== department.length) {
      throw new ValidationFailedException([
        { field, code: 'LENGTH_MISMATCH', message: `${field} must have one entry per department` },
      ]);
    }
  }
  return department.map((id, i) => ({
    id,
    ...(order ? { order: order[i] } : {}),
    ...(leader ? { isLeader: leader[i] === 1 } : {}),
  }));
}

/** `""` clears a mobile or email in WeCom. */
const clearable = (value: string | undefined): string | null | undefined =>
  value === '' ? null : value;

function profile(body: WecomUserBody): MemberProfileInput {
  return {
    name: body.name,
    mobile: clearable(body.mobile),
    email: clearable(body.email),
    position: body.position,
    gender: body.gender === undefined ? undefined : WECOM_GENDERS[String(body.gender)],
    departments: memberships(body),
    mainDepartmentId: body.main_department,
    directLeaders: body.direct_leader,
  };
}

/** WeCom's user/create body as the members use case takes it. */
export function createMemberInput(body: WecomCreateUserDto): CreateMemberInput {
  return {
    ...profile(body),
    userid: body.userid,
    name: body.name,
    departments: memberships(body) ?? [],
    ...(body.enable === 0 ? { status: 'disabled' as const } : {}),
  };
}

/** WeCom's user/update body as the members use case takes it. */
export function updateMemberInput(body: WecomUpdateUserDto): UpdateMemberInput {
  return {
    ...profile(body),
    ...(body.enable === undefined ? {} : { enabled: body.enable === 1 }),
  };
}
