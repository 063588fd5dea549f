export {
  wecomErrors,
  type WecomError,
  type WecomErrcode,
  type WecomErrcodeTable,
} from './wecom-errors';
export { installWecomEnvelope, WECOM_PREFIX } from './wecom-envelope';
