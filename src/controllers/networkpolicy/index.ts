/**
 * The networkpolicy controller: compiles NetworkPolicies once per reconcile into the model's
 * matchers (`src/model/policy`), which trace, reach, lint and every plane evaluate.
 */
export { compilePolicies } from './compile.js';
