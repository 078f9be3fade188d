/** CRC-32 (ISO 3309, as PNG chunks use it). zlib.crc32 exists only from Node 20.15, and Node 20.0 is supported. */
const TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xed_b8_83_20 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }

  return t
})()

export function crc32(bytes: Uint8Array): number {
  let c = 0xff_ff_ff_ff
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xff_ff_ff_ff) >>> 0
}
