/**
 * What each party of a finished RESHARE session reported, judged by its role (reshare review L1).
 * The dealer that leaves holds no new share: it must report exactly the root key (public key and
 * chain code) and no share set. Each receiver (cloud-1, cloud-2, the new signer's co-signer) must
 * report the root key and the new share set's public part, which must name the root key, the
 * session's receivers as its parties and the session's threshold — and all three receivers the
 * same one. Every party that fails its check is named, so an Owner knows which co-signer to look
 * at, and the orchestrator can tell a wrong dealer (retry with another) from a receiver that
 * disagrees (the pairing is blocked: a party that holds the new key changed it).
 */
import type { KeyAlgorithm } from '@countersign/protocol';
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { parseKeygenResult } from './keygen-orchestrator.js';
import { readPublicShareSet } from './public-share-set.js';

export interface PartyReport {
  readonly index: number;
  readonly cosignerId: string;
  /** The DONE job's result, or undefined if it is not a KEYGEN/RESHARE result. */
  readonly result: ReturnType<typeof parseKeygenResult>;
}

export interface Disagreement {
  readonly index: number;
  readonly cosignerId: string;
  readonly role: 'LEAVING_DEALER' | 'RECEIVER';
  /** What is wrong with its report (no reported value: the audit names, it does not echo). */
  readonly problem: string;
}

export interface ReshareVerdict {
  /** The receivers' one public share set, when nobody disagrees. */
  readonly shareSet: string | undefined;
  readonly disagreeing: readonly Disagreement[];
}

export interface ReshareExpectation {
  readonly algorithm: KeyAlgorithm;
  readonly root: { readonly publicKey: string; readonly chainCode: string | null };
  /** Ascending receiver indices. */
  readonly receivers: readonly number[];
  readonly threshold: number;
}

/** Every party's reported result, with its index in the session. */
export async function partyReports(
  trx: Transaction<Database>,
  sessionId: string,
): Promise<PartyReport[]> {
  const rows = await trx
    .selectFrom('cosigner_jobs as j')
    .innerJoin('mpc_session_parties as p', (join) =>
      join.onRef('p.session_id', '=', 'j.session_id').onRef('p.cosigner_id', '=', 'j.cosigner_id'),
    )
    .select(['p.party_index', 'p.cosigner_id', 'j.result'])
    .where('j.session_id', '=', sessionId)
    .orderBy('p.party_index')
    .execute();
  return rows.map((row) => ({
    index: row.party_index,
    cosignerId: row.cosigner_id,
    result: parseKeygenResult(typeof row.result === 'string' ? JSON.parse(row.result) : row.result),
  }));
}

export function judgeReshareReports(
  reports: readonly PartyReport[],
  expected: ReshareExpectation,
): ReshareVerdict {
  const disagreeing: Disagreement[] = [];
  const agreed = new Map<number, string>();
  for (const report of reports) {
    const role = expected.receivers.includes(report.index) ? 'RECEIVER' : 'LEAVING_DEALER';
    const problem = reportProblem(report, role, expected);
    if (problem !== undefined)
      disagreeing.push({ index: report.index, cosignerId: report.cosignerId, role, problem });
    else if (role === 'RECEIVER') agreed.set(report.index, report.result!.shareSet!);
  }
  // Receivers whose reports each look right must still report one share set: the odd one out
  // disagrees (no majority: every one of them does).
  const counts = new Map<string, number>();
  for (const s of agreed.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
  if (counts.size > 1) {
    const majority = [...counts].find(([, n]) => n * 2 > agreed.size)?.[0];
    for (const report of reports)
      if (agreed.has(report.index) && agreed.get(report.index) !== majority)
        disagreeing.push({
          index: report.index,
          cosignerId: report.cosignerId,
          role: 'RECEIVER',
          problem: 'another share set than the other receivers',
        });
  }
  const receiversReported = reports.filter((r) => expected.receivers.includes(r.index)).length;
  const whole = disagreeing.length === 0 && receiversReported === expected.receivers.length;
  return { shareSet: whole ? [...agreed.values()][0] : undefined, disagreeing };
}

function reportProblem(
  { result }: PartyReport,
  role: Disagreement['role'],
  { algorithm, root, receivers, threshold }: ReshareExpectation,
): string | undefined {
  if (result === undefined) return 'no key in its result';
  if (result.publicKey !== root.publicKey || result.chainCode !== root.chainCode)
    return 'another root key or chain code';
  if (role === 'LEAVING_DEALER')
    return result.shareSet === undefined ? undefined : 'a share set, though it leaves';
  if (result.shareSet === undefined) return 'no share set';
  const facts = readPublicShareSet(result.shareSet, algorithm);
  if (facts === undefined) return 'a malformed share set';
  if (facts.publicKey !== root.publicKey || facts.chainCode !== root.chainCode)
    return 'a share set of another key';
  if (
    facts.parties.length !== receivers.length ||
    facts.parties.some((index, k) => index !== receivers[k])
  )
    return "a share set of other parties than the session's receivers";
  if (facts.threshold !== threshold) return 'a share set of another threshold';
  return undefined;
}
