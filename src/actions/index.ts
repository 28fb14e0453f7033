import type { ActionDefinition } from '../engine/step-definition.ts';
import { logAction } from './log.ts';
import { waitAction } from './wait.ts';
import { httpRequestAction } from './http-request.ts';
import { escalateAction } from './escalate.ts';

/** Every action a playbook may use. A new action is one file and one line here. */
export const actions: ActionDefinition<any>[] = [
  logAction,
  waitAction,
  httpRequestAction,
  escalateAction,
];
