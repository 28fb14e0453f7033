import type { ActionDefinition } from '../engine/step-definition.ts';
import { logAction } from './log.ts';
import { waitAction } from './wait.ts';
import { httpRequestAction } from './http-request.ts';
import { escalateAction } from './escalate.ts';
import { kubeRolloutRestartAction } from './kube-rollout-restart.ts';
import { kubeScaleAction } from './kube-scale.ts';
import { kubeRolloutUndoAction } from './kube-rollout-undo.ts';
import { kubePauseAction, kubeResumeAction } from './kube-pause.ts';
import { kubeSetEnvAction } from './kube-set-env.ts';
import { kubeSetResourcesAction } from './kube-set-resources.ts';
import { kubePatchConfigMapAction } from './kube-patch-config-map.ts';
import { kubeRestoreAction } from './kube-restore.ts';
import { kubeSwitchServiceSelectorAction } from './kube-switch-service-selector.ts';
import { kubeDeletePodsAction } from './kube-delete-pods.ts';
import { kubeApplyAction } from './kube-apply.ts';
import { kubeSnapshotAction } from './kube-snapshot.ts';
import { kubeCordonAction } from './kube-cordon.ts';
import { kubeBatchRestartAction } from './kube-batch-restart.ts';
import { kubeClusterSnapshotAction } from './kube-cluster-snapshot.ts';

/** Every action a playbook may use. A new action is one file and one line here. */
export const actions: ActionDefinition[] = [
  logAction,
  waitAction,
  httpRequestAction,
  escalateAction,
  kubeRolloutRestartAction,
  kubeScaleAction,
  kubeRolloutUndoAction,
  kubePauseAction,
  kubeResumeAction,
  kubeSetEnvAction,
  kubeSetResourcesAction,
  kubePatchConfigMapAction,
  kubeRestoreAction,
  kubeSwitchServiceSelectorAction,
  kubeDeletePodsAction,
  kubeApplyAction,
  kubeSnapshotAction,
  kubeCordonAction,
  kubeBatchRestartAction,
  kubeClusterSnapshotAction,
];
