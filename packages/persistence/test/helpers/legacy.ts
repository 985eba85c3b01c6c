/**
 * Builders of version 2..5 files for the reader tests. Mosquitto 2.0 no longer writes them,
 * so they are assembled here field by field from the layouts in persist_read_v234.c / v5.
 */
const u8 = (n: number): Buffer => Buffer.from([n]);
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);

export function header(version: number): Buffer {
  return Buffer.concat([Buffer.from('00b5006d6f7371756974746f206462', 'hex'), u32(0), u32(version)]);
}

/** A v2..v4 chunk: uint16 type + uint32 length (deliberately wrong, as the v4 writer's were). */
export function chunkV234(type: number, body: Buffer, statedLength = body.length + 36): Buffer {
  return Buffer.concat([u16(type), u32(statedLength), body]);
}

export const v234 = {
  cfg: (shutdown: number, lastDbId: bigint) => chunkV234(1, Buffer.concat([u8(shutdown), u8(8), u64(lastDbId)])),
  msgStore: (version: number, storeId: bigint, sourceId: string, topic: string, payload: string, qos: number, retain: number) =>
    chunkV234(
      2,
      Buffer.concat([
        u64(storeId),
        str(sourceId),
        ...(version === 4 ? [str('user'), u16(1883)] : []),
        u16(7), // source mid
        u16(99), // mid, ignored
        str(topic),
        u8(qos),
        u8(retain),
        u32(Buffer.byteLength(payload)),
        Buffer.from(payload),
      ]),
    ),
  clientMsg: (clientId: string, storeId: bigint, mid: number, qos: number, retain: number, direction: number, state: number, dup: number) =>
    chunkV234(3, Buffer.concat([str(clientId), u64(storeId), u16(mid), u8(qos), u8(retain), u8(direction), u8(state), u8(dup)])),
  retain: (storeId: bigint) => chunkV234(4, u64(storeId)),
  sub: (clientId: string, topic: string, qos: number) => chunkV234(5, Buffer.concat([str(clientId), str(topic), u8(qos)])),
  client: (version: number, clientId: string, lastMid: number) =>
    chunkV234(6, Buffer.concat([str(clientId), u16(lastMid), ...(version === 2 ? [] : [u64(1700000000n)])])),
};

/** A version 5 CLIENT chunk: the 16-byte fixed part has no listener port / username. */
export function clientV5(clientId: string, lastMid: number, interval: number): Buffer {
  const id = Buffer.from(clientId);
  const fixed = Buffer.alloc(16);
  fixed.writeBigInt64LE(0n, 0);
  fixed.writeUInt32BE(interval, 8);
  fixed.writeUInt16BE(lastMid, 12);
  fixed.writeUInt16BE(id.length, 14);
  return Buffer.concat([u32(6), u32(16 + id.length), fixed, id]);
}

/** A version 5/6 chunk with an arbitrary type and body. */
export function chunkV56(type: number, body: Buffer, statedLength = body.length): Buffer {
  return Buffer.concat([u32(type), u32(statedLength), body]);
}
