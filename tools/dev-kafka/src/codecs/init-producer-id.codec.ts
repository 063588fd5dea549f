import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface InitProducerIdRequest {
  transactionalId: string | null;
}

export function decodeInitProducerIdRequest(r: Reader): InitProducerIdRequest {
  const transactionalId = r.nullableString();
  r.int32(); // transaction_timeout_ms
  return { transactionalId };
}

export function encodeInitProducerIdResponse(
  w: Writer,
  res: { errorCode: number; producerId: number; producerEpoch: number },
): void {
  w.int32(0).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch);
}
