/**
 * CRC-32C (Castagnoli, RFC 3720 §B.4), as Google Cloud KMS uses it for end-to-end integrity of
 * Encrypt/Decrypt payloads ("Verifying end-to-end data integrity" in the Cloud KMS docs). Not a
 * security check — it catches corruption in transit, which a wrapped data key cannot afford.
 * @module
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C of `data` as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
