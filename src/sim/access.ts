/**
 * RBAC denials. The simulated user may do everything except what a test denies; a denied request gets the real
 * 403 Forbidden Status and SelfSubjectAccessReviews answer `allowed: false` for it.
 *
 * Matching follows RBAC's resource strings: a rule for `deployments` does not cover `deployments/scale`; name the
 * subresource (`subresource: 'scale'` or `resource: 'deployments/scale'`) to deny it. `'*'` matches any verb or
 * resource; an omitted group or namespace matches any.
 */
export interface DenyRule {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  subresource?: string;
}

export interface AccessRequest {
  verb: string;
  resource: string;
  group: string;
  namespace: string | undefined;
  subresource: string | undefined;
}

/** The identity the simulated server authenticates the bearer token as (it appears in Forbidden messages). */
export const SIM_USER = 'system:serviceaccount:remediator:remediator';

export class AccessRules {
  #deny: DenyRule[] = [];

  deny(rule: DenyRule): void {
    this.#deny.push(rule);
  }

  clear(): void {
    this.#deny = [];
  }

  allowed(req: AccessRequest): boolean {
    return !this.#deny.some((r) => matches(r, req));
  }
}

function matches(rule: DenyRule, req: AccessRequest): boolean {
  const [ruleResource, ruleSubFromResource] = rule.resource.split('/', 2) as [string, string | undefined];
  const ruleSub = rule.subresource ?? ruleSubFromResource;
  if (rule.verb !== '*' && rule.verb !== req.verb) return false;
  if (ruleResource !== '*' && ruleResource !== req.resource) return false;
  if (ruleResource !== '*' && (ruleSub ?? '') !== (req.subresource ?? '') && ruleSub !== '*') return false;
  if (rule.group !== undefined && rule.group !== '*' && rule.group !== req.group) return false;
  if (rule.namespace !== undefined && rule.namespace !== req.namespace) return false;
  return true;
}
