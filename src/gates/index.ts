import type { GateDefinition } from '../engine/step-definition.ts';
import { httpCheckGate } from './http-check.ts';
import { prometheusQueryGate } from './prometheus-query.ts';
import { alertmanagerResolvedGate } from './alertmanager-resolved.ts';
import { kubeRolloutStatusGate } from './kube-rollout-status.ts';
import { kubeTrafficSwitchedGate } from './kube-traffic-switched.ts';

/** Every verification gate a playbook may use. A new gate is one file and one line here. */
export const gates: GateDefinition[] = [
  httpCheckGate,
  prometheusQueryGate,
  alertmanagerResolvedGate,
  kubeRolloutStatusGate,
  kubeTrafficSwitchedGate,
];
