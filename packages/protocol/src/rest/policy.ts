/**
 * Transaction Authorization Policy (`/v1/tap/draft`, `/v1/tap/publish`, `/v1/tap/active_policy`).
 *
 * The wire shape is the one the official `@fireblocks/ts-sdk` sends and reads on those paths
 * (its `LegacyPolicyRule*` models), so an unmodified SDK can edit a Countersign policy. Two
 * departures, both documented in `packages/platform/docs/policy.md`:
 * - `amountMax` is a Countersign extension: the inclusive upper bound of the rule's amount range
 *   (the Fireblocks rule only has the lower bound, `amount`).
 * - deprecated single-value fields (`operator`, `designatedSigner`, `srcType`, `srcId`,
 *   `dstType`, `dstId`, `authorizers`, …) are not part of the shape: every object is closed, so a
 *   draft using them is refused with the field's JSON path instead of being half understood.
 *
 * Amounts travel as decimal strings (a JSON number is accepted on input and normalised), never
 * as floats once decoded.
 */
import { Type, type Static } from 'typebox';

/** A non-negative decimal, no exponent, no sign: `"0"`, `"12.5"`, `"0.000001"`. */
export const POLICY_DECIMAL_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]+)?$';

const PolicyDecimalSchema = Type.String({ pattern: POLICY_DECIMAL_PATTERN, maxLength: 80 });

/** An amount as a decimal string, or as a JSON number (normalised to a string when decoded). */
export const PolicyAmountSchema = Type.Union([PolicyDecimalSchema, Type.Number({ minimum: 0 })]);

const IdSchema = Type.String({ minLength: 1, maxLength: 200 });
const IdListSchema = Type.Array(IdSchema, { maxItems: 1000 });

export const POLICY_TRANSACTION_TYPES = [
  'TRANSFER',
  'CONTRACT_CALL',
  'APPROVE',
  'MINT',
  'BURN',
  'SUPPLY',
  'REDEEM',
  'STAKE',
  'RAW',
  'TYPED_MESSAGE',
  'PROGRAM_CALL',
] as const;
export type PolicyTransactionType = (typeof POLICY_TRANSACTION_TYPES)[number];

/** Account kinds a rule's `src` / `dst` entries may name (second tuple item). */
export const POLICY_ACCOUNT_TYPES = [
  'EXCHANGE',
  'UNMANAGED',
  'VAULT',
  'NETWORK_CONNECTION',
  'COMPOUND',
  'FIAT_ACCOUNT',
  'ONE_TIME_ADDRESS',
  '*',
] as const;
export type PolicyAccountType = (typeof POLICY_ACCOUNT_TYPES)[number];

/** Account sub-kinds (third tuple item). */
export const POLICY_ACCOUNT_SUB_TYPES = [
  'EXTERNAL',
  'INTERNAL',
  'CONTRACT',
  'EXCHANGETEST',
  '*',
] as const;
export type PolicyAccountSubType = (typeof POLICY_ACCOUNT_SUB_TYPES)[number];

/** A union of string literals from a `const` list, typed as that list's members. */
function literals<T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));
}

/** Who may initiate: `wildcard: "*"` for anyone, else console users, groups and API users. */
export const PolicyRuleOperatorsSchema = Type.Object(
  {
    wildcard: Type.Optional(Type.Literal('*')),
    users: Type.Optional(IdListSchema),
    usersGroups: Type.Optional(IdListSchema),
    services: Type.Optional(IdListSchema),
  },
  { additionalProperties: false },
);

/** API users (or groups of API users) whose co-signers sign what the rule lets through. */
export const PolicyRuleDesignatedSignersSchema = Type.Object(
  { users: Type.Optional(IdListSchema), usersGroups: Type.Optional(IdListSchema) },
  { additionalProperties: false },
);

export const PolicyRuleAuthorizationGroupSchema = Type.Object(
  {
    users: Type.Optional(IdListSchema),
    usersGroups: Type.Optional(IdListSchema),
    th: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: false },
);

/** Approvers of a `2-TIER` rule: groups with thresholds, combined by `logic`. */
export const PolicyRuleAuthorizationGroupsSchema = Type.Object(
  {
    logic: Type.Optional(Type.Union([Type.Literal('AND'), Type.Literal('OR')])),
    allowOperatorAsAuthorizer: Type.Optional(Type.Boolean()),
    groups: Type.Optional(Type.Array(PolicyRuleAuthorizationGroupSchema, { maxItems: 100 })),
  },
  { additionalProperties: false },
);

const AggregationMethodSchema = Type.Union([
  Type.Literal('PER_SINGLE_MATCH'),
  Type.Literal('ACROSS_ALL_MATCHES'),
]);

export const PolicyRuleAmountAggregationSchema = Type.Object(
  {
    operators: Type.Optional(AggregationMethodSchema),
    srcTransferPeers: Type.Optional(AggregationMethodSchema),
    dstTransferPeers: Type.Optional(AggregationMethodSchema),
  },
  { additionalProperties: false },
);

export const PolicyRuleRawMessageSigningSchema = Type.Object(
  {
    algorithm: Type.Optional(Type.String({ maxLength: 100 })),
    derivationPath: Type.Optional(
      Type.Object(
        { path: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 10 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * `[id]`, `[id, type]` or `[id, type, subType]`; `"*"` in any position means any. The item
 * values are checked when decoded (the type list is closed), so the schema only fixes the arity.
 */
export const PolicySrcOrDestAttributesSchema = Type.Array(IdSchema, { minItems: 1, maxItems: 3 });
export type PolicySrcOrDestAttributes = Static<typeof PolicySrcOrDestAttributesSchema>;

export const PolicyRuleAccountsSchema = Type.Object(
  { ids: Type.Optional(Type.Array(PolicySrcOrDestAttributesSchema, { maxItems: 1000 })) },
  { additionalProperties: false },
);

export const PolicyRuleSchema = Type.Object(
  {
    type: Type.Literal('TRANSFER'),
    action: Type.Union([Type.Literal('ALLOW'), Type.Literal('BLOCK'), Type.Literal('2-TIER')]),
    asset: IdSchema,
    amountCurrency: Type.Union([Type.Literal('USD'), Type.Literal('EUR'), Type.Literal('NATIVE')]),
    amountScope: Type.Union([Type.Literal('SINGLE_TX'), Type.Literal('TIMEFRAME')]),
    amount: PolicyAmountSchema,
    /** Countersign extension: inclusive upper bound; absent = no upper bound. */
    amountMax: Type.Optional(PolicyAmountSchema),
    periodSec: Type.Integer({ minimum: 0, maximum: 10 * 366 * 24 * 3600 }),
    operators: Type.Optional(PolicyRuleOperatorsSchema),
    transactionType: Type.Optional(literals(POLICY_TRANSACTION_TYPES)),
    designatedSigners: Type.Optional(PolicyRuleDesignatedSignersSchema),
    src: Type.Optional(PolicyRuleAccountsSchema),
    dst: Type.Optional(PolicyRuleAccountsSchema),
    dstAddressType: Type.Optional(
      Type.Union([Type.Literal('WHITELISTED'), Type.Literal('ONE_TIME'), Type.Literal('*')]),
    ),
    authorizationGroups: Type.Optional(PolicyRuleAuthorizationGroupsSchema),
    amountAggregation: Type.Optional(PolicyRuleAmountAggregationSchema),
    rawMessageSigning: Type.Optional(PolicyRuleRawMessageSigningSchema),
    applyForApprove: Type.Optional(Type.Boolean()),
    applyForTypedMessage: Type.Optional(Type.Boolean()),
    externalDescriptor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
/** A rule as it arrives (amounts may be numbers). */
export type PolicyRuleInput = Static<typeof PolicyRuleSchema>;
/** A decoded rule: amounts are decimal strings. */
export type PolicyRule = Omit<PolicyRuleInput, 'amount' | 'amountMax'> & {
  amount: string;
  amountMax?: string;
};

/** Body of `PUT /v1/tap/draft` and `POST /v1/tap/publish`. */
export const PolicyRulesSchema = Type.Object(
  { rules: Type.Optional(Type.Array(PolicyRuleSchema, { maxItems: 1000 })) },
  { additionalProperties: false },
);
export type PolicyRulesInput = Static<typeof PolicyRulesSchema>;
export interface PolicyRules {
  rules: PolicyRule[];
}

/** `errorField` values: the Fireblocks ones, plus the rule fields Countersign also checks. */
export const POLICY_RULE_ERROR_FIELDS = [
  'operator',
  'operators',
  'authorizationGroups',
  'designatedSigner',
  'designatedSigners',
  'contractMethods',
  'amountAggregation',
  'src',
  'dst',
  // Countersign additions
  'action',
  'asset',
  'amount',
  'periodSec',
  'transactionType',
  'dstAddressType',
  'rawMessageSigning',
  'externalDescriptor',
  'rule',
] as const;
export type PolicyRuleErrorField = (typeof POLICY_RULE_ERROR_FIELDS)[number];

export const PolicyRuleErrorSchema = Type.Object(
  {
    errorMessage: Type.String(),
    errorCode: Type.Integer(),
    errorCodeName: Type.String(),
    errorField: literals(POLICY_RULE_ERROR_FIELDS),
  },
  { additionalProperties: false },
);
export type PolicyRuleError = Static<typeof PolicyRuleErrorSchema>;

export const PolicyRuleCheckResultSchema = Type.Object(
  {
    /** Zero-based position of the rule in `rules`. */
    index: Type.Integer(),
    status: Type.Union([Type.Literal('ok'), Type.Literal('failure')]),
    errors: Type.Array(PolicyRuleErrorSchema),
  },
  { additionalProperties: false },
);
export type PolicyRuleCheckResult = Static<typeof PolicyRuleCheckResultSchema>;

export const PolicyCheckResultSchema = Type.Object(
  { errors: Type.Integer(), results: Type.Array(PolicyRuleCheckResultSchema) },
  { additionalProperties: false },
);
export type PolicyCheckResult = Static<typeof PolicyCheckResultSchema>;

export const PolicyStatusSchema = Type.Union([
  Type.Literal('SUCCESS'),
  Type.Literal('UNVALIDATED'),
  Type.Literal('INVALID_CONFIGURATION'),
  Type.Literal('PENDING'),
  Type.Literal('PENDING_CONSOLE_APPROVAL'),
  Type.Literal('AWAITING_QUORUM'),
  Type.Literal('UNHANDLED_ERROR'),
]);
export type PolicyStatus = Static<typeof PolicyStatusSchema>;

export const PolicyValidationSchema = Type.Object(
  { status: PolicyStatusSchema, checkResult: PolicyCheckResultSchema },
  { additionalProperties: false },
);
export type PolicyValidation = Static<typeof PolicyValidationSchema>;

export const PolicyMetadataSchema = Type.Object(
  {
    editedBy: Type.Optional(Type.String()),
    editedAt: Type.Optional(Type.String()),
    publishedBy: Type.Optional(Type.String()),
    publishedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type PolicyMetadata = Static<typeof PolicyMetadataSchema>;

const DecodedRuleSchema = Type.Array(Type.Unsafe<PolicyRule>(PolicyRuleSchema));

export const PolicyResponseSchema = Type.Object(
  { rules: DecodedRuleSchema, metadata: PolicyMetadataSchema },
  { additionalProperties: false },
);

/** `GET /v1/tap/active_policy`. */
export const PolicyAndValidationResponseSchema = Type.Object(
  { policy: PolicyResponseSchema, validation: PolicyValidationSchema },
  { additionalProperties: false },
);
export type PolicyAndValidationResponse = Static<typeof PolicyAndValidationResponseSchema>;

export const DraftResponseSchema = Type.Object(
  {
    status: Type.String(),
    rules: DecodedRuleSchema,
    draftId: Type.String(),
    metadata: PolicyMetadataSchema,
  },
  { additionalProperties: false },
);
export type DraftResponse = Static<typeof DraftResponseSchema>;

/** `GET` / `PUT /v1/tap/draft`. */
export const DraftReviewAndValidationResponseSchema = Type.Object(
  { draftResponse: DraftResponseSchema, validation: PolicyValidationSchema },
  { additionalProperties: false },
);
export type DraftReviewAndValidationResponse = Static<
  typeof DraftReviewAndValidationResponseSchema
>;

/** `POST /v1/tap/draft` (publish the stored draft). */
export const PublishDraftRequestSchema = Type.Object(
  { draftId: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);
export type PublishDraftRequest = Static<typeof PublishDraftRequestSchema>;

export const PublishResultSchema = Type.Object(
  {
    status: PolicyStatusSchema,
    rules: DecodedRuleSchema,
    checkResult: PolicyCheckResultSchema,
    metadata: PolicyMetadataSchema,
  },
  { additionalProperties: false },
);
export type PublishResult = Static<typeof PublishResultSchema>;
