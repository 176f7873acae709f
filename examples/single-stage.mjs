// One stage on one in-memory document, no pipeline around it.
// Usage: node examples/single-stage.mjs
import { filterBoilerplate, runStage } from 'distill';

const email = [
  'From: Jane Doe <jane@example.org>',
  'To: team@example.org',
  'Subject: Q3 budget',
  'Received: from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.org',
  'X-Mailer: Example Mail 1.0',
  '',
  'The Q3 budget is $48,000; please confirm by 30 September.',
  '',
  '--',
  'Jane Doe | Finance | +1 555 0100',
].join('\n');

const doc = await runStage(filterBoilerplate(), { id: 'budget-mail', text: email, format: 'email' });
const [metric] = doc.stages;
console.log(doc.value);
console.log(`${metric.stage}: ${metric.tokensIn} → ${metric.tokensOut} tokens`);
