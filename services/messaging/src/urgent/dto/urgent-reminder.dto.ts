import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, Matches } from 'class-validator';
import type { UrgentReminder } from '../urgent-reminder-events';

export class FlagUrgentDto {
  @ApiPropertyOptional({
    type: [String],
    description:
      'Only these of the unread participants (at most 2,000); leave out for everyone who has not read it',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2000)
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, {
    each: true,
    message: 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
  })
  userids?: string[];
}

export class UrgentReminderResponse {
  @ApiProperty() id!: string;
  @ApiProperty() conversationId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() remindedBy!: string;
  @ApiProperty({ type: [String], description: 'The members re-notified' }) userids!: string[];
  @ApiProperty() remindedAt!: string;

  static of(r: UrgentReminder): UrgentReminderResponse {
    return {
      id: r.id,
      conversationId: r.conversationId,
      seq: r.seq,
      remindedBy: r.remindedBy,
      userids: r.userids,
      remindedAt: r.remindedAt.toISOString(),
    };
  }
}

export class FlaggedUrgentResponse extends UrgentReminderResponse {
  @ApiProperty({ description: 'Further urgent reminders this message may still get' })
  remindersLeft!: number;
}

export class UrgentReminderListResponse {
  @ApiProperty({ type: [UrgentReminderResponse] }) items!: UrgentReminderResponse[];
}
