// How the Callback Handler settings of a paired API key are kept (review 2026-11-27 F8): only
// SQL NULL means "no handler"; a write that would store anything but a JSON object is refused;
// stored text that is not a JSON object (JSON `null`, garbage) reads back as damaged settings,
// which the gate fails closed on — never an automatic APPROVE, never a raw SyntaxError.
import { describe, expect, it } from 'vitest';

import { askStoredCallbackHandler } from '../src/callback/callback-gate.js';
import { rsaKeyPair, txPayload } from './callback-fixtures.js';
import { pairedApiKeysTable } from './paired-api-keys-table.js';

const cosigner = rsaKeyPair(3072);

/** The repository over a real SQLite database with the store's paired_api_keys table. */
function repository() {
  const { db, repo } = pairedApiKeysTable();
  repo.addPairedApiKey({ apiKeyId: 'ak-1', cosignerId: 'cs-1', platformUrl: 'https://p.example' });
  /** Writes the column as a damaged store would hold it. */
  const writeRaw = (text: string | null) =>
    db.prepare('UPDATE paired_api_keys SET callback_handler = ?').run(text);
  return { repo, writeRaw };
}

const ask = (stored: unknown) =>
  askStoredCallbackHandler(stored, () => cosigner.privateKey, 'tx_sign_request', txPayload());

describe('stored Callback Handler settings', () => {
  it('refuses to store anything but a JSON object or null: NaN, toJSON() null, arrays, text', () => {
    const { repo } = repository();
    const values: [string, unknown][] = [
      ['NaN', NaN],
      ['toJSON null', { toJSON: () => null }],
      ['array', []],
      ['text', 'text'],
      ['number', 7],
      ['toJSON text', { toJSON: () => 'x' }],
    ];
    for (const [name, value] of values) {
      expect(() => repo.setCallbackHandler('ak-1', value), name).toThrow(
        expect.objectContaining({ code: 'ERR_COSIGNER_INVALID_ARGUMENT' }),
      );
      expect(repo.getPairedApiKey('ak-1')?.callbackHandler).toBeNull();
    }
    expect(() =>
      repo.addPairedApiKey({
        apiKeyId: 'ak-2',
        cosignerId: 'cs-1',
        platformUrl: 'https://p.example',
        callbackHandler: NaN,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_COSIGNER_INVALID_ARGUMENT' }));
  });

  it('the text null and a corrupted column read back as damaged settings: the gate fails closed, listing still works', async () => {
    const { repo, writeRaw } = repository();
    for (const text of ['null', '{"mode":"jwt",', '[]', '"https://cb.example"']) {
      writeRaw(text);
      const record = repo.getPairedApiKey('ak-1');
      expect(record?.callbackHandler, text).toBe(text);
      expect(repo.listPairedApiKeys()).toHaveLength(1);
      const result = await ask(record?.callbackHandler);
      expect(result.handlerConfigured).toBe(true);
      expect(result.outcome).toMatchObject({
        action: 'FAILED',
        subStatus: 'CALLBACK_CONFIG_INVALID',
      });
    }
    writeRaw(null);
    expect(await ask(repo.getPairedApiKey('ak-1')?.callbackHandler)).toEqual({
      outcome: { action: 'APPROVE' },
      attempts: [],
      handlerConfigured: false,
    });
  });
});
