/** The policy engine: decode a draft, validate it for publish, evaluate transactions against it. */
export { decodePolicyRules } from './policy-decoder.js';
export { validatePolicy, POLICY_RULE_ERROR_CODES } from './policy-validation.js';
export type { PolicyRuleErrorCodeName } from './policy-validation.js';
export { evaluatePolicy } from './policy-evaluator.js';
export type { MatchedRule, PolicyAction, PolicyVerdict } from './policy-evaluator.js';
export type { ApprovalGroupRequirement, ApprovalRequirement } from './approval-requirement.js';
export { velocityWindow } from './amount-match.js';
export { PolicyDecodeError, PolicyPriceUnavailableError } from './policy-errors.js';
export type * from './policy-context.js';
