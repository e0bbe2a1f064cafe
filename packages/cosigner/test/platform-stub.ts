// The platform as the job tests see it: a stub that answers the session a job asks for and
// records every other call (an MPC message posted, a result reported), refusing it, so a test
// can tell how far a job got; and the platform's signature over the canonical bytes it signs.
import type { SessionResponse } from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { PlatformClient } from '../src/platform/platform-client.js';

/** A platform stub: answers the session, records (and refuses) every other call. */
export function stubPlatform(
  answer: () => SessionResponse | undefined,
  calls: string[],
): PlatformClient {
  return new Proxy(
    {},
    {
      get: (_t, name) =>
        name === 'session'
          ? () => Promise.resolve(answer())
          : () => {
              calls.push(String(name));
              throw new Error('no other platform call expected');
            },
    },
  ) as PlatformClient;
}

/** `bytes ‖ Ed25519 signature` in base64, as the platform publishes a roster or authorization. */
export function signedBy(bytes: Uint8Array, secretKey: Uint8Array): string {
  return Buffer.concat([bytes, ed25519.sign(bytes, secretKey)]).toString('base64');
}
