import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { WecomMediaStore } from '@qiwei/wecom';
import type { AppMessageContent } from '../app-messages/app-messages.service';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { MediaService } from '../media/media.service';
import { MessageTooLargeException } from '../messages/message.exceptions';
import type { WecomMessageBodyDto } from './dto/wecom-message.dto';
import { ContentEmptyException, MediaKindMismatchException } from './wecom.exceptions';

/** WeCom's default button text of a text card. */
const DEFAULT_BTNTXT = '详情';

/**
 * A WeCom message body (message/send, appchat/send) as the content messaging sends. A media_id
 * names WeCom temporary media (media/upload); it becomes a messaging media record of the
 * sending app (copied out of the temporary bucket, size and SHA-256 checked, once per media_id
 * and app), so the message carries media like any other and outlives the media_id.
 */
@Injectable()
export class WecomMessageContent {
  constructor(
    private readonly store: WecomMediaStore,
    private readonly media: MediaService,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async of(caller: Principal, body: WecomMessageBodyDto): Promise<AppMessageContent> {
    const safe = body.safe === 1;
    switch (body.msgtype) {
      case 'text':
      case 'markdown': {
        const content = (body[body.msgtype] as NonNullable<WecomMessageBodyDto['text']>).content;
        if (!content.trim()) throw new ContentEmptyException(`${body.msgtype}.content`);
        if (Buffer.byteLength(content, 'utf8') > this.config.WECOM_TEXT_MAX_BYTES)
          throw new MessageTooLargeException(this.config.WECOM_TEXT_MAX_BYTES);
        return { msgtype: body.msgtype, text: content, safe };
      }
      case 'image':
      case 'voice':
      case 'file':
      case 'video': {
        const ref = body[body.msgtype] as NonNullable<WecomMessageBodyDto['video']>;
        const mediaId = await this.adopt(caller, ref.media_id, body.msgtype);
        const caption =
          body.msgtype === 'video' && (ref.title || ref.description)
            ? { title: ref.title ?? '', description: ref.description ?? '' }
            : undefined;
        return { msgtype: body.msgtype, mediaId, caption, safe };
      }
      case 'textcard': {
        const card = body.textcard as NonNullable<WecomMessageBodyDto['textcard']>;
        return {
          msgtype: 'textcard',
          textcard: {
            title: card.title,
            description: card.description,
            url: card.url,
            btntxt: card.btntxt?.trim() || DEFAULT_BTNTXT,
          },
          safe,
        };
      }
      case 'news': {
        const news = body.news as NonNullable<WecomMessageBodyDto['news']>;
        return {
          msgtype: 'news',
          articles: news.articles.map((a) => ({
            title: a.title,
            description: a.description ?? '',
            url: a.url,
            picurl: a.picurl ?? '',
          })),
          safe,
        };
      }
    }
  }

  /** The sender's messaging media for a WeCom media_id of the corp, of the message's type. */
  private async adopt(
    caller: Principal,
    mediaId: string,
    msgtype: 'image' | 'voice' | 'video' | 'file',
  ): Promise<string> {
    const wecom = await this.store.describe(caller.corpId, mediaId);
    if (wecom.type !== msgtype) throw new MediaKindMismatchException(mediaId, wecom.type, msgtype);
    return (await this.media.fromWecom(caller, wecom)).id;
  }
}
