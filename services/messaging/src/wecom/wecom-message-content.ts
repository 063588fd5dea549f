import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { ValidationFailedException } from '@qiwei/platform';
import { WecomMediaStore } from '@qiwei/wecom';
import type { AppMessageContent } from '../app-messages/app-messages.service';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { MediaService } from '../media/media.service';
import { MessageTooLargeException } from '../messages/message.exceptions';
import type { CardAction, TemplateCard } from '../messages/messages.repository';
import type { WecomMessageBodyDto } from './dto/wecom-message.dto';
import type { WecomTemplateCardDto } from './dto/wecom-template-card.dto';
import { ContentEmptyException, MediaKindMismatchException } from './wecom.exceptions';

/** WeCom's default button text of a text card. */
const DEFAULT_BTNTXT = '详情';

/** Parts of a template card that belong to the other card type. */
const ONLY_TEXT_NOTICE = ['emphasis_content', 'sub_title_text'] as const;
const ONLY_NEWS_NOTICE = ['card_image', 'image_text_area', 'vertical_content_list'] as const;

const actionOf = (a: {
  type?: number;
  url?: string;
  appid?: string;
  pagepath?: string;
}): CardAction => ({
  type: a.type ?? 0,
  url: a.url ?? '',
  appid: a.appid ?? '',
  pagepath: a.pagepath ?? '',
});

const invalid = (field: string, code: string, message: string) =>
  new ValidationFailedException([{ field: `template_card.${field}`, code, message }]);

/**
 * A template card as messaging keeps it, after the checks between its parts WeCom makes: a
 * text_notice has a main title or a sub-title text, a news_notice a main title and a picture
 * (card_image or image_text_area), and neither carries the other's parts.
 */
export function templateCardOf(card: WecomTemplateCardDto): TemplateCard {
  const other = card.card_type === 'text_notice' ? ONLY_NEWS_NOTICE : ONLY_TEXT_NOTICE;
  for (const part of other)
    if (card[part] !== undefined)
      throw invalid(part, 'FIELD_NOT_FOR_TYPE', `A ${card.card_type} has no ${part}.`);
  const title = card.main_title?.title?.trim();
  if (card.card_type === 'text_notice' && !title && !card.sub_title_text?.trim())
    throw invalid(
      'main_title',
      'REQUIRED',
      'A text_notice needs main_title.title or sub_title_text.',
    );
  if (card.card_type === 'news_notice' && !title)
    throw invalid('main_title', 'REQUIRED', 'A news_notice needs main_title.title.');
  if (card.card_type === 'news_notice' && !card.card_image && !card.image_text_area)
    throw invalid('card_image', 'REQUIRED', 'A news_notice needs card_image or image_text_area.');
  return {
    cardType: card.card_type,
    taskId: card.task_id ?? '',
    source: card.source
      ? {
          iconUrl: card.source.icon_url ?? '',
          desc: card.source.desc ?? '',
          descColor: card.source.desc_color ?? 0,
        }
      : null,
    mainTitle: card.main_title
      ? { title: card.main_title.title ?? '', desc: card.main_title.desc ?? '' }
      : null,
    quoteArea: card.quote_area
      ? {
          action: actionOf(card.quote_area),
          title: card.quote_area.title ?? '',
          quoteText: card.quote_area.quote_text ?? '',
        }
      : null,
    emphasisContent: card.emphasis_content
      ? { title: card.emphasis_content.title ?? '', desc: card.emphasis_content.desc ?? '' }
      : null,
    subTitleText: card.sub_title_text ?? '',
    horizontalContentList: (card.horizontal_content_list ?? []).map((h) => ({
      type: h.type ?? 0,
      keyname: h.keyname,
      value: h.value ?? '',
      url: h.url ?? '',
      userid: h.userid ?? '',
    })),
    jumpList: (card.jump_list ?? []).map((j) => ({ action: actionOf(j), title: j.title })),
    cardAction: actionOf(card.card_action),
    cardImage: card.card_image
      ? { url: card.card_image.url, aspectRatio: card.card_image.aspect_ratio ?? 1.3 }
      : null,
    imageTextArea: card.image_text_area
      ? {
          action: actionOf(card.image_text_area),
          title: card.image_text_area.title ?? '',
          desc: card.image_text_area.desc ?? '',
          imageUrl: card.image_text_area.image_url,
        }
      : null,
    verticalContentList: (card.vertical_content_list ?? []).map((v) => ({
      title: v.title,
      desc: v.desc ?? '',
    })),
  };
}

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
      case 'template_card':
        return {
          msgtype: 'template_card',
          templateCard: templateCardOf(body.template_card as WecomTemplateCardDto),
          safe,
        };
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
