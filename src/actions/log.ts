import { Type } from '@sinclair/typebox';
import { defineAction } from '../engine/step-definition.ts';

/** Writes a message to the run's log and record. Useful as a breadcrumb between rungs. */
export const logAction = defineAction({
  name: 'log',
  summary: 'Write a message to the run log.',
  params: Type.Object(
    {
      message: Type.String({ minLength: 1, description: 'The text; may use templates such as {{ alert.labels.service }}.' }),
      level: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' })),
    },
    { additionalProperties: false },
  ),
  async run(ctx) {
    ctx.log[ctx.params.level ?? 'info']({ message: ctx.params.message }, ctx.params.message);
    return { status: 'ok', output: { message: ctx.params.message }, summary: ctx.params.message };
  },
});
