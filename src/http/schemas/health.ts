import { object } from './common.js';

const report = (description: string) =>
  object(
    description,
    {
      status: { type: 'string', enum: ['green', 'yellow', 'red'] },
      checks: {
        type: 'array',
        items: object('one check', {
          name: { type: 'string' },
          status: { type: 'string', enum: ['green', 'yellow', 'red'] },
          message: { type: 'string' },
          fix: { type: 'string', description: 'what to do, when the check is not green' },
        }),
      },
    },
    { required: ['status', 'checks'] },
  );

export const healthSchema = {
  summary: 'Health: 200 when every check is green or yellow, 503 when one is red',
  tags: ['health'],
  response: { 200: report('healthy'), 503: report('a check is red') },
};
