/**
 * A certificate-request subject as an RFC 4514 string: RDNs last-to-first,
 * joined with ",", multi-valued RDNs with "+", the §3 short names where RFC
 * 4514 defines one and the dotted OID with the hex of the value's BER
 * encoding otherwise (§2.3, §2.4).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import type { AttributeTypeAndValue, Name } from '@peculiar/asn1-x509';

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

export function formatRfc4514(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) => [...rdn].map(formatAttribute).join('+'))
    .join(',');
}

function formatAttribute(attribute: AttributeTypeAndValue): string {
  const shortName = SHORT_NAMES[attribute.type];
  const text = stringValue(attribute);
  if (shortName !== undefined && text !== undefined) return `${shortName}=${escapeValue(text)}`;
  const ber = Buffer.from(AsnConvert.serialize(attribute.value));
  return `${attribute.type}=#${ber.toString('hex')}`;
}

/** The decoded string when the value is one of the directory string types. */
function stringValue({ value }: AttributeTypeAndValue): string | undefined {
  return (
    value.utf8String ??
    value.printableString ??
    value.ia5String ??
    value.teletexString ??
    value.bmpString ??
    value.universalString
  );
}

/** RFC 4514 §2.4; control characters are hex-escaped too (allowed, and safe to log). */
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
    } else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).padStart(2, '0')}`;
    else out += char;
  });
  return out;
}
