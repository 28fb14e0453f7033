import { Type } from '@sinclair/typebox';

/** Parameter schemas the kube steps share, so a bad name is refused when the playbook loads. */

/** DNS-1123 label: a namespace. */
export const Namespace = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  description: 'Namespace of the object.',
});

/** DNS-1123 subdomain: most object names. */
export const ObjectName = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  description: 'Name of the object.',
});

export const WorkloadKindParam = Type.Union([Type.Literal('Deployment'), Type.Literal('StatefulSet'), Type.Literal('DaemonSet')], {
  default: 'Deployment',
  description: 'Kind of the workload (default Deployment).',
});

/** A label selector in the API's string form (`app=web,tier in (a,b)`); must not be empty. */
export const SelectorString = Type.String({ minLength: 1, maxLength: 1024, description: 'Label selector, e.g. app=web,track!=canary.' });
