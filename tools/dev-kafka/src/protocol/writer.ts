/** Growable big-endian buffer for responses; the first four bytes are reserved for the frame size. */
export class Writer {
  private buf: Buffer;
  private pos = 4;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(initialSize, 16));
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  uvarint(v: number): this {
    let rest = v;
    while (rest >= 0x80) {
      this.int8Raw((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    return this.int8Raw(rest);
  }

  private int8Raw(byte: number): this {
    this.ensure(1);
    this.buf[this.pos++] = byte;
    return this;
  }

  nullableString(v: string | null): this {
    if (v === null) return this.int16(-1);
    const len = Buffer.byteLength(v);
    this.int16(len);
    this.ensure(len);
    this.buf.write(v, this.pos, 'utf8');
    this.pos += len;
    return this;
  }

  string(v: string): this {
    return this.nullableString(v);
  }

  nullableBytes(v: Buffer | null): this {
    if (v === null) return this.int32(-1);
    this.int32(v.length);
    return this.raw(v);
  }

  bytes(v: Buffer): this {
    return this.nullableBytes(v);
  }

  raw(v: Buffer): this {
    this.ensure(v.length);
    v.copy(this.buf, this.pos);
    this.pos += v.length;
    return this;
  }

  array<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  compactArray<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.uvarint(items.length + 1);
    for (const v of items) item(this, v);
    return this;
  }

  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** The finished frame: size prefix followed by everything written. */
  frame(): Buffer {
    this.buf.writeInt32BE(this.pos - 4, 0);
    return this.buf.subarray(0, this.pos);
  }
}
