import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { USERID_PATTERN } from '../../conversations/dto/conversation.dto';
import { WecomMessageBodyDto, WecomQuery } from '../../wecom/dto/wecom-message.dto';
import type { AppChat } from '../app-chats.service';

const CHATID = /^[0-9a-zA-Z]{1,32}$/;
const CHATID_MESSAGE = 'chatid must be 1–32 of 0-9 a-z A-Z';
const USERID_MESSAGE = 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -';
/** The largest GROUP_MEMBER_LIMIT; the configured one is checked by the use case (86006). */
const MAX_LIST = 100_000;

export class CreateAppChatDto {
  @ApiPropertyOptional({ description: 'At most 50 characters (WeCom truncates; Qiwei refuses)' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  name?: string;

  @ApiPropertyOptional({ description: 'One of userlist; the first of userlist when not given' })
  @IsOptional()
  @IsString()
  @Matches(USERID_PATTERN, { message: 'owner must be a userid' })
  owner?: string;

  @ApiProperty({
    type: [String],
    description: '2 to GROUP_MEMBER_LIMIT (2,000) members, within the app’s range',
  })
  @IsDefined()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  userlist!: string[];

  @ApiPropertyOptional({
    description: '1–32 of [0-9a-zA-Z], unique in the corp; generated if absent',
  })
  @IsOptional()
  @IsString()
  @Matches(CHATID, { message: CHATID_MESSAGE })
  chatid?: string;
}

export class UpdateAppChatDto {
  @ApiProperty()
  @IsDefined()
  @IsString()
  @Matches(CHATID, { message: CHATID_MESSAGE })
  chatid!: string;

  @ApiPropertyOptional({ description: 'At most 50 characters' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  name?: string;

  @ApiPropertyOptional({ description: 'The new owner: a member, or one of add_user_list' })
  @IsOptional()
  @IsString()
  @Matches(USERID_PATTERN, { message: 'owner must be a userid' })
  owner?: string;

  @ApiPropertyOptional({ type: [String], description: 'Members to add (within the app’s range)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  add_user_list?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Members to remove (others are ignored)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  del_user_list?: string[];
}

export class AppChatQuery extends WecomQuery {
  @ApiProperty()
  @IsDefined()
  @IsString()
  @Matches(CHATID, { message: CHATID_MESSAGE })
  chatid!: string;
}

export class SendAppChatDto extends WecomMessageBodyDto {
  @ApiProperty()
  @IsDefined()
  @IsString()
  @Matches(CHATID, { message: CHATID_MESSAGE })
  chatid!: string;
}

export class CreateAppChatResponse {
  @ApiProperty({ example: 0 }) errcode!: number;
  @ApiProperty({ example: 'ok' }) errmsg!: string;
  @ApiProperty() chatid!: string;
}

class ChatInfoResponse {
  @ApiProperty() chatid!: string;
  @ApiProperty() name!: string;
  @ApiProperty() owner!: string;
  @ApiProperty({ type: [String] }) userlist!: string[];
  @ApiProperty({ description: '0: a group chat (WeCom’s only other kind, 1, is not made by apps)' })
  chat_type!: number;
}

export class GetAppChatResponse {
  @ApiProperty({ example: 0 }) errcode!: number;
  @ApiProperty({ example: 'ok' }) errmsg!: string;
  @ApiProperty({ type: ChatInfoResponse }) chat_info!: ChatInfoResponse;

  static of(chat: AppChat): GetAppChatResponse {
    const c = chat.conversation;
    return {
      errcode: 0,
      errmsg: 'ok',
      chat_info: {
        chatid: chat.chatid,
        name: c.name,
        owner: c.owner ?? '',
        userlist: c.participants.map((p) => p.userid),
        chat_type: 0,
      },
    };
  }
}
