export {
  wecomErrors,
  type WecomError,
  type WecomErrcode,
  type WecomErrcodeTable,
} from './wecom-errors';
export { installWecomEnvelope, WECOM_PREFIX } from './wecom-envelope';
export {
  bufferOf,
  DEFAULT_WECOM_MEDIA_LIMITS,
  DEFAULT_WECOM_MEDIA_TTL_SECONDS,
  WECOM_MEDIA_MIN_BYTES,
  WECOM_MEDIA_TYPES,
  WecomMediaFileTypeInvalidException,
  WecomMediaNotFoundException,
  WecomMediaSizeInvalidException,
  WecomMediaStore,
  WecomMediaTypeInvalidException,
  type WecomMedia,
  type WecomMediaStoreOptions,
  type WecomMediaType,
  type WecomMediaUpload,
} from './temporary-media';
export {
  sealWecomCallback,
  wecomDecrypt,
  wecomEncrypt,
  wecomSignature,
  wecomXmlText,
  WECOM_CALLBACK_TOKEN,
  WECOM_ENCODING_AES_KEY,
  type SealedWecomCallback,
} from './wecom-callback-crypto';
