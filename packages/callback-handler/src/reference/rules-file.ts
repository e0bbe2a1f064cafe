/**
 * The reference handler's rules file (JSON, version 1): its schema, and the checks a schema
 * cannot express (time zones, time ranges, decimal caps). Every error names the bad field as a
 * JSON pointer, e.g. `rules.json: /assets/ETH/maxAmount: must be a decimal string`. Unknown
 * fields are errors: a misspelt `maxAmout` must not silently mean "no cap".
 * @module
 */
import { readFile } from 'node:fs/promises';

import { DecimalAmountSchema } from '@countersign/protocol';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

import { CallbackHandlerError } from '../errors.js';
import { firstSchemaError } from '../schema-check.js';
import { parseDecimal, type Decimal } from './decimal.js';

const DestinationRefSchema = Type.Union([
  Type.Object(
    { address: Type.String({ minLength: 1, maxLength: 1024 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' }),
      id: Type.String({ minLength: 1, maxLength: 256 }),
    },
    { additionalProperties: false },
  ),
]);
export type DestinationRef = Static<typeof DestinationRefSchema>;

const ApprovableActionSchema = Type.Union([Type.Literal('APPROVE'), Type.Literal('REJECT')]);

const VelocitySchema = Type.Object(
  {
    windowSeconds: Type.Integer({ minimum: 1, maximum: 366 * 86400 }),
    maxAmount: Type.Optional(DecimalAmountSchema),
    maxCount: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const AssetRuleSchema = Type.Object(
  {
    /** Every destination must match an entry, or "ANY" to allow any destination. */
    allowlist: Type.Union([
      Type.Literal('ANY'),
      Type.Array(DestinationRefSchema, { maxItems: 100000 }),
    ]),
    maxAmount: Type.Optional(DecimalAmountSchema),
    velocity: Type.Optional(Type.Array(VelocitySchema, { maxItems: 16 })),
  },
  { additionalProperties: false },
);
export type AssetRule = Static<typeof AssetRuleSchema>;

const Day = Type.Union(
  ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => Type.Literal(d)),
);
const Time = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$' });

const BusinessHoursSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    windows: Type.Array(
      Type.Object(
        { days: Type.Array(Day, { minItems: 1, maxItems: 7 }), start: Time, end: Time },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 32 },
    ),
    outsideAction: Type.Optional(Type.Union([Type.Literal('REJECT'), Type.Literal('RETRY')])),
  },
  { additionalProperties: false },
);
export type BusinessHours = Static<typeof BusinessHoursSchema>;

export const RulesFileSchema = Type.Object(
  {
    version: Type.Literal(1),
    /** For a transaction of an asset without a rule. */
    defaultAction: ApprovableActionSchema,
    /** Operations that may be approved at all; default ["TRANSFER"]. */
    operations: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' }), { maxItems: 64 }),
    ),
    /** Always rejected, whatever else matches. */
    denylist: Type.Optional(Type.Array(DestinationRefSchema, { maxItems: 100000 })),
    businessHours: Type.Optional(BusinessHoursSchema),
    assets: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), AssetRuleSchema, {
      additionalProperties: false,
    }),
    configChanges: Type.Optional(
      Type.Object(
        {
          approveTypes: Type.Array(Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' }), {
            maxItems: 64,
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RulesFile = Static<typeof RulesFileSchema>;

/** A validated rules file with its caps parsed. */
export interface Rules {
  source: RulesFile;
  operations: readonly string[];
  maxAmounts: ReadonlyMap<string, Decimal>;
  velocityCaps: ReadonlyMap<string, readonly VelocityCap[]>;
  /** The longest velocity window, in ms: how much history the state file keeps. */
  longestWindowMs: number;
}

export interface VelocityCap {
  index: number;
  windowMs: number;
  maxAmount: Decimal | undefined;
  maxCount: number | undefined;
}

/** Reads and validates `path`; ERR_CALLBACK_RULES_INVALID with the file name and field. */
export async function loadRulesFile(path: string): Promise<Rules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CallbackHandlerError(
      'ERR_CALLBACK_RULES_INVALID',
      `${path}: cannot read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CallbackHandlerError(
      'ERR_CALLBACK_RULES_INVALID',
      `${path}: not JSON (${(cause as Error).message})`,
    );
  }
  return parseRules(json, path);
}

export function parseRules(json: unknown, name = 'rules'): Rules {
  const fail = (message: string): never => {
    throw new CallbackHandlerError('ERR_CALLBACK_RULES_INVALID', `${name}: ${message}`);
  };
  if (!Value.Check(RulesFileSchema, json)) return fail(firstSchemaError(RulesFileSchema, json));
  const rules = json;
  const hours = rules.businessHours;
  if (hours !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: hours.timeZone });
    } catch {
      fail(`/businessHours/timeZone: unknown IANA time zone ${JSON.stringify(hours.timeZone)}`);
    }
    hours.windows.forEach((w, i) => {
      if (w.start >= w.end) {
        fail(
          `/businessHours/windows/${i}: start must be before end (use two windows across midnight)`,
        );
      }
    });
  }
  const maxAmounts = new Map<string, Decimal>();
  const velocityCaps = new Map<string, VelocityCap[]>();
  let longestWindowMs = 0;
  for (const [asset, rule] of Object.entries(rules.assets)) {
    const at = `/assets/${asset}`;
    if (rule.maxAmount !== undefined) maxAmounts.set(asset, decimal(rule.maxAmount));
    const caps = (rule.velocity ?? []).map((v, index): VelocityCap => {
      if (v.maxAmount === undefined && v.maxCount === undefined) {
        fail(`${at}/velocity/${index}: needs maxAmount, maxCount or both`);
      }
      longestWindowMs = Math.max(longestWindowMs, v.windowSeconds * 1000);
      return {
        index,
        windowMs: v.windowSeconds * 1000,
        maxAmount: v.maxAmount === undefined ? undefined : decimal(v.maxAmount),
        maxCount: v.maxCount,
      };
    });
    if (caps.length > 0) velocityCaps.set(asset, caps);
  }
  return {
    source: rules,
    operations: rules.operations ?? ['TRANSFER'],
    maxAmounts,
    velocityCaps,
    longestWindowMs,
  };
}

function decimal(text: string): Decimal {
  // The schema's pattern already admitted it; parseDecimal agrees on the same grammar.
  return parseDecimal(text)!;
}
