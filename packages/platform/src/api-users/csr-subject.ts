/**
 * A certificate-request subject as an RFC 4514 string: RDNs last-to-first,
 * joined with ",", multi-valued RDNs with "+", the §3 short names where RFC
 * 4514 defines one and the dotted OID with the hex of the value's BER
 * encoding otherwise (§2.3, §2.4).
 *
 * The result is stored in a PostgreSQL `text` column and written to logs and
 * the audit log, so it is always well-formed Unicode without NUL or other
 * control characters:
 * - string values are decoded here from their BER bytes, strictly (asn1js
 *   would turn invalid UTF-8 into Latin-1 mojibake and a BMPString surrogate
 *   into a lone UTF-16 surrogate); a value that does not decode — invalid
 *   UTF-8, an unpaired surrogate, a code point beyond U+10FFFF, non-ASCII in
 *   a PrintableString or IA5String — is written in the §2.4 `#hex` form of
 *   its BER encoding instead, which every RFC 4514 parser accepts;
 * - control characters (C0, DEL, C1), NUL included, are hex-escaped octet by
 *   octet of their UTF-8 encoding (`\00`, `\7f`, `\c2\85`), as §2.4 allows.
 */

/** RFC 4514 §3: the only short names a conforming string may use. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** Universal tags (X.680 §8.6). */
const OBJECT_IDENTIFIER = 0x06;
const UTF8_STRING = 0x0c;
const PRINTABLE_STRING = 0x13;
const TELETEX_STRING = 0x14;
const IA5_STRING = 0x16;
const UNIVERSAL_STRING = 0x1c;
const BMP_STRING = 0x1e;
const SEQUENCE = 0x30;
const SET = 0x31;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Thrown for bytes that are not a DER X.501 Name. */
export class MalformedNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedNameError';
  }
}

/**
 * RFC 4514 string of a DER-encoded X.501 Name (RDNSequence). Works on the
 * bytes rather than a decoded object so that each value is read exactly as
 * it was signed.
 */
export function formatRfc4514(nameDer: Uint8Array): string {
  const name = readTlv(nameDer, 0);
  if (name.tag !== SEQUENCE || name.end !== nameDer.length) {
    throw new MalformedNameError('subject is not a DER Name');
  }
  const rdns: string[] = [];
  for (const rdn of children(nameDer, name)) {
    if (rdn.tag !== SET) throw new MalformedNameError('RDN is not a SET');
    const attributes: string[] = [];
    for (const attribute of children(nameDer, rdn)) {
      if (attribute.tag !== SEQUENCE) throw new MalformedNameError('attribute is not a SEQUENCE');
      const [type, value, ...rest] = children(nameDer, attribute);
      if (type?.tag !== OBJECT_IDENTIFIER || value === undefined || rest.length > 0) {
        throw new MalformedNameError('attribute is not { type, value }');
      }
      attributes.push(
        formatAttribute(
          decodeOid(nameDer.subarray(type.contentStart, type.end)),
          nameDer.subarray(value.start, value.end),
        ),
      );
    }
    if (attributes.length === 0) throw new MalformedNameError('empty RDN');
    rdns.push(attributes.join('+'));
  }
  return rdns.reverse().join(',');
}

function formatAttribute(type: string, ber: Uint8Array): string {
  const shortName = SHORT_NAMES[type];
  const hex = Buffer.from(ber).toString('hex');
  if (shortName === undefined) return `${type}=#${hex}`;
  const text = decodeDirectoryString(ber);
  return text === undefined ? `${shortName}=#${hex}` : `${shortName}=${escapeValue(text)}`;
}

/**
 * The subject Name's DER inside a DER CertificationRequestInfo (RFC 2986
 * §4.1: SEQUENCE { version INTEGER, subject Name, ... }).
 */
export function requestInfoSubjectDer(requestInfoDer: Uint8Array): Uint8Array {
  const info = readTlv(requestInfoDer, 0);
  if (info.tag !== SEQUENCE) throw new MalformedNameError('request info is not a SEQUENCE');
  const version = readTlv(requestInfoDer, info.contentStart);
  const subject = readTlv(requestInfoDer, version.end);
  if (subject.end > info.end) throw new MalformedNameError('subject overruns the request info');
  return requestInfoDer.subarray(subject.start, subject.end);
}

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** One DER TLV at `offset` (X.690 §8.1, §10.1: definite lengths, low tag numbers). */
function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) {
    throw new MalformedNameError('truncated or unsupported tag');
  }
  let contentStart = offset + 2;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new MalformedNameError('unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = bytes[contentStart + i];
      if (byte === undefined) throw new MalformedNameError('truncated length');
      length = length * 256 + byte;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > bytes.length) throw new MalformedNameError('truncated value');
  return { tag, start: offset, contentStart, end };
}

function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const items: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const item = readTlv(bytes, at);
    if (item.end > parent.end) throw new MalformedNameError('value overruns its container');
    items.push(item);
    at = item.end;
  }
  return items;
}

/** X.690 §8.19. */
function decodeOid(content: Uint8Array): string {
  const arcs: bigint[] = [];
  let arc = 0n;
  let pending = false;
  for (const byte of content) {
    arc = (arc << 7n) | BigInt(byte & 0x7f);
    pending = (byte & 0x80) !== 0;
    if (!pending) {
      arcs.push(arc);
      arc = 0n;
    }
  }
  const head = arcs[0];
  if (pending || head === undefined) throw new MalformedNameError('bad object identifier');
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...arcs.slice(1)].join('.');
}

/**
 * The text of a primitive, definite-length directory string; undefined for
 * any other type or for bytes that are not valid in their declared type.
 * (A constructed string has another tag byte, so falls to `#hex` as well.)
 */
function decodeDirectoryString(ber: Uint8Array): string | undefined {
  const tlv = readTlv(ber, 0);
  const content = ber.subarray(tlv.contentStart, tlv.end);
  switch (tlv.tag) {
    case UTF8_STRING:
      try {
        return strictUtf8.decode(content);
      } catch {
        return undefined;
      }
    case PRINTABLE_STRING:
    case IA5_STRING:
      return content.every((byte) => byte < 0x80)
        ? Buffer.from(content).toString('latin1')
        : undefined;
    case TELETEX_STRING:
      // T.61 in theory; in practice Latin-1, which is how OpenSSL prints it.
      return Buffer.from(content).toString('latin1');
    case BMP_STRING: {
      if (content.length % 2 !== 0) return undefined;
      let text = '';
      for (let i = 0; i < content.length; i += 2) {
        text += String.fromCharCode(((content[i] ?? 0) << 8) | (content[i + 1] ?? 0));
      }
      return isWellFormedUtf16(text) ? text : undefined;
    }
    case UNIVERSAL_STRING: {
      if (content.length % 4 !== 0) return undefined;
      let text = '';
      for (let i = 0; i < content.length; i += 4) {
        const codePoint =
          (content[i] ?? 0) * 0x1000000 +
          ((content[i + 1] ?? 0) << 16) +
          ((content[i + 2] ?? 0) << 8) +
          (content[i + 3] ?? 0);
        if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
        text += String.fromCodePoint(codePoint);
      }
      return text;
    }
    default:
      return undefined;
  }
}

function isWellFormedUtf16(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * RFC 4514 §2.4. Control characters (C0, DEL, C1) are hex-escaped too, one
 * `\xx` per UTF-8 octet: allowed by the grammar, and safe to store and log.
 */
function escapeValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((char, i) => {
    const code = char.codePointAt(0) ?? 0;
    if ('"+,;<>\\'.includes(char)) out += `\\${char}`;
    else if (
      (i === 0 && (char === ' ' || char === '#')) ||
      (i === chars.length - 1 && char === ' ')
    ) {
      out += `\\${char}`;
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      for (const byte of Buffer.from(char, 'utf8'))
        out += `\\${byte.toString(16).padStart(2, '0')}`;
    } else out += char;
  });
  return out;
}
