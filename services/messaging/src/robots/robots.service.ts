import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { asCorpId, TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { ConversationsRepository } from '../conversations/conversations.repository';
import {
  GroupKindNotAllowedException,
  GroupRoleRequiredException,
  NotAGroupException,
} from '../conversations/conversation.exceptions';
import { roleOf } from '../conversations/conversations.service';
import { MediaService } from '../media/media.service';
import { ROBOT_SENDER_PREFIX, type StoredMessage } from '../messages/messages.repository';
import { MessagesService, type MessageSender, type SendInput } from '../messages/messages.service';
import type { WebhookMessageDto } from './dto/webhook.dto';
import {
  RobotContentEmptyException,
  RobotFileTooSmallException,
  RobotImageInvalidException,
  RobotImageTooLargeException,
  RobotMediaTypeInvalidException,
  RobotNotFoundException,
  RobotRateLimitedException,
  WebhookKeyInvalidException,
} from './robot.exceptions';
import { RobotsRepository, type GroupRobot } from './robots.repository';

/** 256 random bits, URL-safe: 43 characters. */
const newKey = () => randomBytes(32).toString('base64url');

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** WeCom's robots send JPG and PNG. */
const imageType = (bytes: Buffer): { contentType: string; extension: string } | null => {
  if (bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])))
    return { contentType: 'image/jpeg', extension: 'jpg' };
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return { contentType: 'image/png', extension: 'png' };
  return null;
};

/**
 * Group robots (群机器人): a group's owner or admins add, list, rotate and delete them; a robot's
 * webhook posts into its group through the messages' one send path, as sender
 * `robot:<robotId>`, at most ROBOT_MESSAGES_PER_MINUTE a minute (fixed windows, counted in the
 * send's transaction).
 */
@Injectable()
export class RobotsService {
  private readonly logger = new Logger(RobotsService.name);

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly robots: RobotsRepository,
    private readonly messages: MessagesService,
    private readonly media: MediaService,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  add(
    caller: Principal,
    conversationId: string,
    name: string,
  ): Promise<{ robot: GroupRobot; key: string }> {
    return this.transactions.run(async (em) => {
      await this.managedGroup(em, caller, conversationId);
      const robot: GroupRobot = {
        corpId: caller.corpId,
        id: randomUUID(),
        conversationId,
        name: name.trim(),
        createdBy: caller.userId,
        createdAt: new Date(),
        keyRotatedAt: null,
      };
      const key = newKey();
      await this.robots.insert(em, robot, key);
      return { robot, key };
    });
  }

  async list(caller: Principal, conversationId: string): Promise<GroupRobot[]> {
    const em = this.dataSource.manager;
    await this.managedGroup(em, caller, conversationId, false);
    return this.robots.ofGroup(em, caller.corpId, conversationId);
  }

  /** A new key; the old one stops working at once. */
  rotateKey(
    caller: Principal,
    conversationId: string,
    id: string,
  ): Promise<{ robot: GroupRobot; key: string }> {
    return this.transactions.run(async (em) => {
      await this.managedGroup(em, caller, conversationId);
      const key = newKey();
      const robot = await this.robots.rotateKey(
        em,
        caller.corpId,
        conversationId,
        id,
        key,
        new Date(),
      );
      if (!robot) throw new RobotNotFoundException(id);
      return { robot, key };
    });
  }

  remove(caller: Principal, conversationId: string, id: string): Promise<void> {
    return this.transactions.run(async (em) => {
      await this.managedGroup(em, caller, conversationId);
      if (!(await this.robots.remove(em, caller.corpId, conversationId, id)))
        throw new RobotNotFoundException(id);
    });
  }

  /** The robot a webhook key names, as the sender it posts as. */
  private async senderOf(key: string | undefined) {
    const robot = key ? await this.robots.byKey(this.dataSource.manager, key) : null;
    if (!robot) throw new WebhookKeyInvalidException();
    const sender: MessageSender = {
      corpId: asCorpId(robot.corpId),
      userId: `${ROBOT_SENDER_PREFIX}${robot.id}`,
    };
    return { robot, sender };
  }

  /**
   * webhook/upload_media: the key's robot uploads a file (`type=file`) it then sends with
   * `file.media_id`. The file becomes a ready upload of the robot's in the media bucket (its
   * SHA-256 kept), which only that robot sends; the `media_id` is that upload's id.
   */
  async uploadMedia(
    key: string | undefined,
    type: string | undefined,
    read: (limit: number) => Promise<{ filename: string; contentType: string; bytes: Buffer }>,
  ): Promise<{ mediaId: string; createdAt: Date }> {
    const { sender } = await this.senderOf(key);
    if (type !== 'file') throw new RobotMediaTypeInvalidException(type ?? '');
    const file = await read(this.config.WECOM_MEDIA_MAX_FILE_BYTES);
    if (file.bytes.length <= 5) throw new RobotFileTooSmallException(file.bytes.length);
    const stored = await this.media.storeBytes(sender, {
      kind: 'file',
      filename: file.filename,
      contentType: file.contentType || 'application/octet-stream',
      bytes: file.bytes,
    });
    try {
      const mediaId = await this.transactions.run((em) => stored.record(em));
      return { mediaId, createdAt: new Date() };
    } catch (error) {
      await stored
        .discard()
        .catch((e: unknown) =>
          this.logger.warn(`orphaned robot file object: ${(e as Error).message}`),
        );
      throw error;
    }
  }

  /** The webhook: WeCom's robot message, posted into the key's group. */
  async send(key: string | undefined, body: WebhookMessageDto): Promise<StoredMessage> {
    const { robot, sender } = await this.senderOf(key);
    const input = this.toInput(body);
    const image = body.msgtype === 'image' ? await this.storeImage(sender, body) : null;
    try {
      return await this.transactions.run(async (em) => {
        const count = await this.robots.countSend(em, robot.corpId, robot.id);
        if (count > this.config.ROBOT_MESSAGES_PER_MINUTE)
          throw new RobotRateLimitedException(this.config.ROBOT_MESSAGES_PER_MINUTE);
        const mediaId = image ? await image.record(em) : input.mediaId;
        return this.messages.accept(em, sender, robot.conversationId, { ...input, mediaId });
      });
    } catch (error) {
      // The refused image's object would be orphaned: remove it, and say so if that fails.
      await image
        ?.discard()
        .catch((e: unknown) =>
          this.logger.warn(`orphaned robot image object: ${(e as Error).message}`),
        );
      throw error;
    }
  }

  private toInput(body: WebhookMessageDto): SendInput {
    const clientMsgId = randomUUID();
    switch (body.msgtype) {
      case 'text': {
        const text = body.text as NonNullable<WebhookMessageDto['text']>;
        if (!text.content.trim()) throw new RobotContentEmptyException('text.content');
        // Messaging keeps no mobiles: of mentioned_mobile_list only "@all" means anyone.
        const mentions = [
          ...(text.mentioned_list ?? []),
          ...(text.mentioned_mobile_list ?? []).filter((m) => m === '@all'),
        ];
        return { clientMsgId, type: 'text', text: text.content, mentions };
      }
      case 'markdown': {
        const markdown = body.markdown as NonNullable<WebhookMessageDto['markdown']>;
        if (!markdown.content.trim()) throw new RobotContentEmptyException('markdown.content');
        return { clientMsgId, type: 'markdown', text: markdown.content };
      }
      case 'image':
        return { clientMsgId, type: 'image' };
      case 'file':
        // An upload of this robot's (webhook/upload_media), checked by the send path.
        return {
          clientMsgId,
          type: 'file',
          mediaId: (body.file as NonNullable<WebhookMessageDto['file']>).media_id,
        };
      case 'news': {
        const news = body.news as NonNullable<WebhookMessageDto['news']>;
        return {
          clientMsgId,
          type: 'news',
          articles: news.articles.map((a) => ({
            title: a.title,
            description: a.description ?? '',
            url: a.url,
            picurl: a.picurl ?? '',
          })),
        };
      }
    }
  }

  /** Checks the image (base64, size, MD5, type) and writes it to object storage. */
  private async storeImage(sender: MessageSender, body: WebhookMessageDto) {
    const image = body.image as NonNullable<WebhookMessageDto['image']>;
    if (!image.base64) throw new RobotContentEmptyException('image.base64');
    const limit = this.config.ROBOT_IMAGE_MAX_BYTES;
    // Decoded size, before decoding: 3 bytes per 4 characters.
    if (Math.floor((image.base64.length * 3) / 4) - 2 > limit)
      throw new RobotImageTooLargeException(limit);
    if (!BASE64.test(image.base64))
      throw new RobotImageInvalidException('ROBOT_IMAGE_BASE64', 'image.base64 is not base64.');
    const bytes = Buffer.from(image.base64, 'base64');
    if (bytes.length > limit) throw new RobotImageTooLargeException(limit);
    if (createHash('md5').update(bytes).digest('hex') !== image.md5.toLowerCase())
      throw new RobotImageInvalidException(
        'ROBOT_IMAGE_MD5_MISMATCH',
        'image.md5 is not the MD5 of the image’s bytes.',
      );
    const type = imageType(bytes);
    if (!type)
      throw new RobotImageInvalidException('ROBOT_IMAGE_TYPE', 'A robot’s image is a JPG or PNG.');
    return this.media.storeBytes(sender, {
      kind: 'image',
      filename: `image.${type.extension}`,
      contentType: type.contentType,
      bytes,
    });
  }

  /** A group the caller is in, as its owner or an admin (locked for a change). */
  private async managedGroup(
    em: EntityManager,
    caller: Principal,
    conversationId: string,
    lock = true,
  ) {
    const c = await this.conversations.forParticipant(em, caller, conversationId, lock);
    if (c.kind === 'external')
      throw new GroupKindNotAllowedException('External groups have no robots.');
    if (c.kind !== 'group' && c.kind !== 'department') throw new NotAGroupException();
    const role = roleOf(c, caller.userId);
    if (role !== 'owner' && role !== 'admin')
      throw new GroupRoleRequiredException('Only the group’s owner and admins manage its robots.');
    return c;
  }
}
