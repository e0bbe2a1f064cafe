// Shared fixtures of the DKLs23 tests: run a DKG (3-of-3 or 2-of-3) through the in-process router.
import { dkls23Dkg, type Dkls23KeyShare } from '../src/index.js';
import { runSessions, sid } from './helpers.js';

export function runDkls23Dkg(
  parties: number[],
  threshold: number,
  label = 'dkls23-dkg',
): Map<number, Dkls23KeyShare> {
  const sessions = new Map(
    parties.map((me) => [me, dkls23Dkg({ sid: sid(label), parties, me, threshold })]),
  );
  const out = runSessions(sessions);
  if (out.errors.size > 0 || out.results.size !== parties.length)
    throw new Error(`DKG failed: ${[...out.errors.values()].map((e) => e.message).join('; ')}`);
  return out.results;
}
