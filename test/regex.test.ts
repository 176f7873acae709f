import { describe, expect, it } from 'vitest';
import { DistillDocument, type DocumentFormat } from '../src/document.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { builtinRules, familyOf, filterBoilerplate, ruleCatalogue, ruleFamilies, TokenMeter, type FilterBoilerplateOptions } from '../stages/regex.js';
import { segmentsOf } from '../stages/regex/meter.js';

const context: StageContext = { task: 'summarise', model: 'gpt-4o', tokenizer: o200k };

async function run(text: string, options: FilterBoilerplateOptions = {}, format: DocumentFormat = 'text'): Promise<DistillDocument> {
  const doc = new DistillDocument({ id: 'doc', text, format });
  await filterBoilerplate(options).run(doc, context);
  return doc;
}

/** The labelling rules (quoted replies, signatures, disclaimers, footers, navigation) deleting, as a user can ask: what they match. */
const deleting: FilterBoilerplateOptions = { remove: ['email', 'web'] };

const mail = (body: string, headers = 'From: Ann Lee <ann@example.org>\nTo: bob@example.org\nSubject: Budget\nDate: Mon, 2 Sep 2002 15:58:51 +0100') => `${headers}\n\n${body}`;

describe('filterBoilerplate options', () => {
  it.each([
    [{ disable: 'email' }, /`disable`.*`email`/],
    [{ disable: ['nope'] }, /`disable\[0\]`.*`nope`/],
    [{ rules: ['email-nope'] }, /`rules\[0\]`.*`email-nope`/],
    [{ rules: [3] }, /`rules\[0\]`.*`3`/],
    [{ userRules: {} }, /`userRules`/],
    [{ userRules: [{ name: 'x y', pattern: 'a' }] }, /`userRules\[0\]\.name`.*`x y`/],
    [{ userRules: [{ name: 'x', pattern: '' }] }, /`userRules\[0\]\.pattern`/],
    [{ userRules: [{ name: 'x', pattern: 'a', flags: 'gy' }] }, /`userRules\[0\]\.flags`.*`gy`/],
    [{ userRules: [{ name: 'x', pattern: 'a', scope: 'page' }] }, /`userRules\[0\]\.scope`.*`page`/],
    [{ userRules: [{ name: 'x', pattern: 'a', replace: 1 }] }, /`userRules\[0\]\.replace`/],
    [{ userRules: [{ name: 'x', pattern: 'a' }, { name: 'x', pattern: 'b' }] }, /`userRules\[1\]\.name`.*regex:user-x/],
    [{ exclude: { name: 'a', pattern: 'b' } }, /`exclude`/],
    [{ include: [{ name: 'a', pattern: '(' }] }, /`include\[0\]\.pattern` of rule `a`/],
    [{ budget: 3 }, /`budget`/],
  ])('rejects %j', (options, message) => {
    expect(() => filterBoilerplate(options as unknown as FilterBoilerplateOptions)).toThrow(TypeError);
    expect(() => filterBoilerplate(options as unknown as FilterBoilerplateOptions)).toThrow(message);
  });

  it('names the user rule whose pattern does not compile', () => {
    expect(() => filterBoilerplate({ userRules: [{ name: 'ticket-footer', pattern: '([a-z]+' }] })).toThrow(/rule `ticket-footer`.*\(\[a-z\]\+/);
  });

  it.each([['email'], ['regex:email'], ['email-signature'], ['regex:email-signature']])('accepts %s as a rule or family name', (name) => {
    expect(() => filterBoilerplate({ disable: [name], rules: [name] })).not.toThrow();
  });
});

describe('rule catalogue', () => {
  it('names every rule regex:<family>-<name>, once, with a description', () => {
    const names = ruleCatalogue.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of ruleCatalogue) {
      expect(rule.name).toMatch(/^regex:[a-z]+-[a-z0-9-]+$/);
      expect(familyOf(rule.name)).toBe(rule.family);
      expect(rule.description.length).toBeGreaterThan(10);
    }
  });

  it('covers every built-in family', () => {
    expect(new Set(ruleCatalogue.map((rule) => rule.family))).toEqual(new Set(ruleFamilies.filter((family) => family !== 'user')));
  });
});

describe('email rules', () => {
  it('keeps From, To, Cc, Date and Subject and drops every other header with its folded lines', async () => {
    const headers = [
      'Return-Path: <list-admin@example.org>',
      'Received: from mx1 (mx1 [10.0.0.1])',
      '\tby mx2 with ESMTP id 123',
      'From: Ann Lee <ann@example.org>',
      'To: bob@example.org',
      'Cc: carol@example.org',
      'Subject: Budget for Q3',
      'X-Mailer: exmh 2.5',
      'List-Unsubscribe: <mailto:x@example.org>',
      'Date: Mon, 2 Sep 2002 15:58:51 +0100',
    ].join('\n');
    const doc = await run(mail('The Q3 budget is $4,200.', headers), deleting, 'email');
    expect(doc.value).toBe(
      'From: Ann Lee <ann@example.org>\nTo: bob@example.org\nCc: carol@example.org\nSubject: Budget for Q3\nDate: Mon, 2 Sep 2002 15:58:51 +0100\n\nThe Q3 budget is $4,200.',
    );
    expect(doc.data.ruleSavings?.map((saving) => saving.rule)).toEqual(['regex:email-transport-headers']);
    expect(doc.data.ruleSavings?.[0]?.hits).toBe(4);
  });

  it.each([
    ['"On ... wrote:" and ">" lines', 'On Mon, 2 Sep 2002, Bob wrote:\n> Can we move the meeting?\n> Thanks\n\nYes, Thursday at 10:00 works.', 'Yes, Thursday at 10:00 works.'],
    ['a two-line attribution', 'On Tue, 20 Aug 2002 22:51:52 EDT,\nValdis said:\n\n> > nested quote\n\nFixed in 2.5.1.', 'Fixed in 2.5.1.'],
    ['a "|" block under "X wrote:"', 'Justin wrote:\n| Is there a way?\n| Thanks\n\nUse unzip -l.', 'Use unzip -l.'],
    ['an Outlook tail', 'Agreed, ship it.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nShall we ship?', 'Agreed, ship it.'],
  ])('removes quoted replies: %s', async (_name, body, expected) => {
    const doc = await run(mail(body), deleting, 'email');
    expect(doc.value.split('\n\n').slice(1).join('\n\n')).toBe(expected);
  });

  it('keeps answers written inside a message quoted under "-----Original Message-----"', async () => {
    const body = '-----Original Message-----\nFrom: Robert\nSent: Monday\nSubject: RE: Java\n\n>Java is slow.\nNot since JDK 1.3: our servers run fine.\n>And C# copies it.\nThat says MS thinks a VM is right.';
    const doc = await run(mail(body), deleting, 'email');
    expect(doc.value).toMatch(/\n\nNot since JDK 1\.3: our servers run fine\.\nThat says MS thinks a VM is right\.$/);
    expect(doc.value).not.toContain('Original Message');
  });

  it('keeps a "|" table that no attribution introduces', async () => {
    const body = 'Results:\n| host | ms |\n| a | 12 |';
    expect((await run(mail(body), deleting, 'email')).value).toContain('| a | 12 |');
  });

  it('removes a signature after "-- " and the list footer after it', async () => {
    const body = 'The build is green.\n\nChris\n-- \nChris Garrigues  http://www.DeepEddy.Com/~cwg/\nAustin, TX 78701\n\n_______________________________________________\nExmh-workers mailing list\nExmh-workers@redhat.com\nhttps://listman.redhat.com/mailman/listinfo/exmh-workers';
    const doc = await run(mail(body), deleting, 'email');
    expect(doc.value).toMatch(/The build is green\.\n\nChris$/);
  });

  it('keeps a long text after a bare "--" (it is not a signature)', async () => {
    const rest = Array.from({ length: 15 }, (_, index) => `Line ${index} of the digest.`).join('\n');
    expect((await run(mail(`Intro.\n--\n${rest}`), deleting, 'email')).value).toContain('Line 14 of the digest.');
  });

  it('removes a list footer without a signature delimiter', async () => {
    const body = 'See you there.\n\n_______________________________________________\nSpamassassin-talk mailing list\nSpamassassin-talk@lists.sourceforge.net\nhttps://lists.sourceforge.net/lists/listinfo/spamassassin-talk';
    expect((await run(mail(body), deleting, 'email')).value).toMatch(/See you there\.$/);
  });

  it('removes unsubscribe instructions but keeps a question about unsubscribing', async () => {
    const body = 'How do I unsubscribe from the old list?\n\nTo unsubscribe, visit http://example.org/u?id=1';
    const doc = await run(mail(body), deleting, 'email');
    expect(doc.value).toContain('How do I unsubscribe from the old list?');
    expect(doc.value).not.toContain('http://example.org/u');
  });

  it('removes a confidentiality disclaimer and its heading', async () => {
    const body =
      'Invoice 2231 is attached: EUR 1,250.\n\n=====================\n\nE-MAIL DISCLAIMER\n\nThis e-mail is confidential and may be legally privileged. If you are not the intended recipient, please delete it.';
    expect((await run(mail(body), deleting, 'email')).value).toMatch(/Invoice 2231 is attached: EUR 1,250\.$/);
  });

  it('leaves non-email documents alone', async () => {
    const text = 'Received: yes\nSubject to change.\n\n> A quote in a report stays.\n--\nNot a signature.';
    expect((await run(text)).value).toBe(text);
  });
});

describe('noise rules', () => {
  it('removes PGP armour and keeps the signed message without dash escapes', async () => {
    const body = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\nThe key is 4096 bits.\n- -- not a signature\n-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v1.0.6\n\niD8DBQE9Y66GK9b4h5R0IUIRAsIYAJ4zEJm2B6tIQDD4MQu7LbapzZpAsgCcCJtl\n=WC8I\n-----END PGP SIGNATURE-----';
    const doc = await run(body);
    expect(doc.value).toBe('The key is 4096 bits.\n-- not a signature');
  });

  it('removes base64 blobs but keeps long words', async () => {
    const blob = Array.from({ length: 4 }, () => 'eJ8+IjUQAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNy').join('\n');
    const doc = await run(`Before.\n\n${blob}\n\nAfter. ${'A'.repeat(250)}`);
    expect(doc.value).toBe(`Before.\n\nAfter. ${'A'.repeat(250)}`);
  });

  it('removes a complete uuencoded block only', async () => {
    const doc = await run('See attachment.\nbegin 644 notes.txt\nM5&AE(&)U9&=E=\n`\nend\nDone.');
    expect(doc.value).toBe('See attachment.\nDone.');
  });

  it.each([
    ['https://example.org/a?utm_source=news&utm_medium=email&id=7', 'https://example.org/a?id=7'],
    ['https://example.org/a?fbclid=IwAR0abc', 'https://example.org/a'],
    ['https://example.org/a?gclid=x#top', 'https://example.org/a#top'],
    ['https://example.org/a?page=2', 'https://example.org/a?page=2'],
  ])('strips tracking parameters: %s', async (link, expected) => {
    expect((await run(`Read ${link} today.`)).value).toBe(`Read ${expected} today.`);
  });

  it('removes hashes and UUIDs alone on a line', async () => {
    const doc = await run('Build log:\n7c53336b37003a9286aba55d2945844c\n  123e4567-e89b-12d3-a456-426614174000\nDone.');
    expect(doc.value).toBe('Build log:\n\nDone.');
  });

  it('keeps ids inside a sentence (an order number or a commit may be the answer) and inside URLs', async () => {
    const text = 'Id 7c53336b37003a9286aba55d2945844c and 123e4567-e89b-12d3-a456-426614174000 see http://x.org/7c53336b37003a9286aba55d2945844c';
    expect((await run(text)).value).toBe(text);
  });

  it('keeps labelled checksums', async () => {
    const text = 'MD5 (openssh-3.4p1.tar.gz) = 459c1d0262e939d6432f193c7a4ba8a8';
    expect((await run(text)).value).toBe(text);
  });

  it('keeps tags and entities that a text talks about', async () => {
    const text = "Tokens '<br>' 0.99 and '</html>' 0.99; I forgot all about &nbsp; here.";
    expect((await run(text)).value).toBe(text);
  });

  it('removes leftover HTML and decodes entities', async () => {
    const doc = await run('<div class="x"><b>Price:</b> 5&nbsp;&amp; more</div><script>var a = "<b>";</script><!-- hidden -->\nList<T> stays, <kre@host> stays.');
    expect(doc.value).toBe('Price: 5 & more\nList<T> stays, <kre@host> stays.');
  });

  it('removes image references but keeps alt text', async () => {
    const doc = await run('Logo [http://home.cnet.com/b.gif] here ![Q3 revenue chart](chart.png) and ![](spacer.gif).');
    expect(doc.value).toBe('Logo here Q3 revenue chart and .');
  });
});

describe('web rules', () => {
  it.each([
    ['We use cookies to improve your experience. By continuing you agree to our cookie policy.\nAccept all\nThe council met on 4 May.', 'The council met on 4 May.'],
    ['Home > News > World\nTurnout was 61%.', 'Turnout was 61%.'],
    ['Share | Tweet | Print\nTurnout was 61%.', 'Turnout was 61%.'],
    ['[Skip to main content](#main)\nTurnout was 61%.\nBack to top', 'Turnout was 61%.'],
    ['Turnout was 61%.\n© 2024 Example News. All rights reserved.', 'Turnout was 61%.'],
  ])('removes site chrome: %j', async (text, expected) => {
    expect((await run(text, deleting, 'html')).value).toBe(expected);
  });

  it('keeps prose that mentions cookies or home', async () => {
    const text = 'Home prices rose 4% in May, and bakers sold more cookies than ever.';
    expect((await run(text, deleting, 'html')).value).toBe(text);
  });
});

describe('furniture and layout rules', () => {
  it('removes page numbers and repeated running headers of a paged document, keeping the first header', async () => {
    const page = (n: number, body: string) => `ACME Manual v2\n\n${body}\n\n${n}`;
    const text = [page(1, 'Install the unit.'), page(2, 'Set the voltage to 230 V.'), page(3, 'Call 555-0100 for service.')].join('\f');
    const doc = await run(text, {}, 'pdf');
    expect(doc.value).toBe('ACME Manual v2\n\nInstall the unit.\fSet the voltage to 230 V.\fCall 555-0100 for service.');
    expect(doc.data.ruleSavings?.filter((saving) => saving.rule.startsWith('regex:furniture')).map((saving) => [saving.rule, saving.hits])).toEqual([
      ['regex:furniture-page-numbers', 3],
      ['regex:furniture-running-headers', 2],
    ]);
  });

  it('keeps a number-only line inside a page and outside paged documents', async () => {
    const text = 'Total\n\n42\n\nis the answer.';
    expect((await run(text)).value).toBe(text);
  });

  it.each([
    ['Thank you. (Applause.) Thank you.', 'Thank you. Thank you.'],
    ['Madam Vice President—(applause)—no President has said that.', 'Madam Vice President—no President has said that.'],
    ['We [Laughter] agree.', 'We agree.'],
    ['because [p.2] we, as a people', 'because we, as a people'],
    ['He said [sic] the [missing text] part.', 'He said [sic] the [missing text] part.'],
  ])('removes transcript markers: %j', async (text, expected) => {
    expect((await run(text)).value).toBe(expected);
  });

  it.each([
    ['rejoins hyphenated words', 'the exam-\nple shows', 'the example shows', 'pdf'],
    ['keeps a capitalised hyphen break', 'North-\nWest', 'North-\nWest', 'pdf'],
    ['removes dot leaders', 'Introduction . . . . . . 1\nBody text.', 'Body text.', 'pdf'],
    ['reads a bare form feed as a line break (PDF pages)', 'Index . . . . 33\fIntro text', '\fIntro text', 'pdf'],
    ['collapses inner spaces, keeps indentation', '  a   b\t\tc  ', '  a b c', 'text'],
    ['collapses blank lines and trims the ends', '\n\na\n\n\n\nb\n\n', 'a\n\nb', 'text'],
  ] as const)('%s', async (_name, text, expected, format) => {
    expect((await run(text, {}, format)).value).toBe(expected);
  });
});

describe('rule selection', () => {
  const text = 'Thank you. (Applause.) Read https://x.org/?utm_source=a now.  Done.';

  it('turns off a rule by name and a family by name', async () => {
    expect((await run(text, { disable: ['furniture-audience-markers'] })).value).toContain('(Applause.)');
    expect((await run(text, { disable: ['regex:furniture'] })).value).toContain('(Applause.)');
    expect((await run(text, { disable: ['furniture'] })).value).not.toContain('utm_source');
  });

  it('runs only the named rules', async () => {
    const doc = await run(text, { rules: ['noise-tracking-parameters'] });
    expect(doc.value).toBe('Thank you. (Applause.) Read https://x.org/ now.  Done.');
    expect(doc.data.ruleSavings?.map((saving) => saving.rule)).toEqual(['regex:noise-tracking-parameters']);
  });
});

describe('user rules and document filters', () => {
  it.each([
    ['line', 'Ticket #12 updated by bot\nThe fix ships Friday.', 'The fix ships Friday.'],
    ['block', 'Ticket #12 updated\nby bot\n\nThe fix ships Friday.', 'The fix ships Friday.'],
    ['document', 'Ticket #12 updated by bot. The fix ships Friday.', 'The fix ships Friday.'],
  ] as const)('applies a %s-scoped rule and credits it', async (scope, text, expected) => {
    const pattern = scope === 'document' ? 'Ticket #\\d+ updated by bot\\. ' : scope === 'block' ? '^Ticket #\\d+ updated\\nby bot$' : '^Ticket #\\d+ updated by bot$';
    const doc = await run(text, { userRules: [{ name: 'ticket', pattern, flags: 'm', scope }] });
    expect(doc.value).toBe(expected);
    expect(doc.data.ruleSavings?.find((saving) => saving.rule === 'regex:user-ticket')?.hits).toBe(1);
  });

  it('expands $1 in a replacement', async () => {
    const doc = await run('Call ext. 2231 now', { userRules: [{ name: 'ext', pattern: 'ext\\. (\\d+)', replace: 'x$1', scope: 'line' }] });
    expect(doc.value).toBe('Call x2231 now');
  });

  it('skips a document an exclude filter matches, naming the rule', async () => {
    const doc = await run('Subject: Out of office\n\nBack Monday.', { exclude: [{ name: 'auto-reply', pattern: '^Subject: Out of office', flags: 'm' }] });
    expect(doc.status).toBe('skipped');
    expect(doc.messages).toMatchObject([{ origin: 'regex:exclude-auto-reply', fatal: false }]);
    expect(doc.value).toBe('Subject: Out of office\n\nBack Monday.');
  });

  it('skips a document no include filter matches, and keeps one that matches', async () => {
    const include = [{ name: 'invoices', pattern: 'invoice', flags: 'i' }];
    const skipped = await run('Lunch menu for Friday.', { include });
    expect(skipped.status).toBe('skipped');
    expect(skipped.messages[0]?.origin).toBe('regex:include-invoices');
    expect((await run('Invoice 12 is due.', { include })).status).toBe('ok');
  });
});

describe('rule savings', () => {
  const samples = [
    mail('On Mon, Bob wrote:\n> old text that costs tokens\n\nNew text.\n-- \nsig line\n\nTo unsubscribe visit http://x.org/u', 'Received: from a by b\nFrom: a@b.org\nSubject: x\nX-Spam: no'),
    'Thank you. (Applause.)  Thank   you.\n\n\n\nCookies: we use cookies on this site.\nhttps://x.org/?utm_source=a',
  ];

  it.each(samples.map((text, index) => [index, text] as const))('sample %i: per-rule figures are exact and add up to the stage total', async (_index, text) => {
    const format = text.startsWith('Received') ? 'email' : 'text';
    const doc = await run(text, {}, format);
    const savings = doc.data.ruleSavings ?? [];
    expect(savings.length).toBeGreaterThan(1);
    const total = o200k.count(text) - o200k.count(doc.value);
    expect(savings.reduce((sum, saving) => sum + saving.tokensRemoved, 0)).toBe(total);
    // Replay rule by rule: each figure is the exact difference its rule made.
    let current = new DistillDocument({ id: 'replay', text, format });
    for (const saving of savings) {
      const before = current.value;
      current = new DistillDocument({ id: 'replay', text: before, format });
      await filterBoilerplate({ rules: [saving.rule] }).run(current, context);
      expect(o200k.count(before) - o200k.count(current.value)).toBe(saving.tokensRemoved);
      expect(current.data.ruleSavings?.[0]?.hits).toBe(saving.hits);
    }
  });

  it('reports nothing and changes nothing on clean text', async () => {
    const doc = await run('The committee approved $2.5 million for 2024.');
    expect(doc.value).toBe('The committee approved $2.5 million for 2024.');
    expect(doc.data.ruleSavings).toEqual([]);
  });
});

describe('TokenMeter', () => {
  const texts = [
    'Hello world.\n\n  indented line\n/ slash line\n.\n/path\n' + 'Sentence one. Sentence two! Third? Yes. '.repeat(20),
    'Ünïcödé text. Ωmega starts here. 東京 is a city. 😀 Emoji. '.repeat(10) + '\n\n\t\tTabs\n\r\nCRLF line\r\n',
    'a'.repeat(100) + '.\n' + 'b'.repeat(100) + '! C' + '\n \n x\n'.repeat(30),
    ...builtinRules.slice(0, 3).map((rule) => `${rule.description}\n`.repeat(12)),
  ];

  it.each(texts.map((text, index) => [index, text] as const))('counts sample %i exactly as o200k does', (_index, text) => {
    expect(new TokenMeter(o200k).count(text)).toBe(o200k.count(text));
    expect(segmentsOf(text).join('')).toBe(text);
  });

  it('counts removed tokens exactly from the changed segments', () => {
    const meter = new TokenMeter(o200k);
    const before = texts[0]!;
    const after = before.replace('Sentence two! ', '').replace('  indented line\n', '');
    expect(meter.removed(before, after)).toBe(o200k.count(before) - o200k.count(after));
  });
});

describe('labelling rules', () => {
  const reply = mail('Is the 2.4 release still due on 12 May?\n\nOn Tue, 20 Aug 2002, Al White wrote:\n> Which port does the daemon use?\n> It fails on 8080.\n\nIt uses 8443 since 2.3.\n\n-- \nAnn Lee, release manager\nhttp://example.org/~ann');

  it('keeps quoted replies and signatures by default, and labels their sections', async () => {
    const doc = await run(reply, {}, 'email');
    expect(doc.value).toContain('> Which port does the daemon use?');
    expect(doc.value).toContain('Ann Lee, release manager');
    const sections = doc.data.sections!;
    const priorOf = (needle: string) => doc.data.priors?.[sections.find((section) => section.text.includes(needle))!.id];
    expect(priorOf('Which port')).toEqual({ label: 'quoted', origin: 'regex:email-quoted-replies' });
    expect(priorOf('release manager')).toEqual({ label: 'signature', origin: 'regex:email-signature' });
    expect(priorOf('It uses 8443')).toBeUndefined();
    expect(doc.data.ruleSavings?.some((saving) => saving.rule === 'regex:email-quoted-replies')).toBe(false);
  });

  it('deletes what `remove` names, and labels nothing it deleted', async () => {
    const doc = await run(reply, { remove: ['email-quoted-replies'] }, 'email');
    expect(doc.value).not.toContain('Which port');
    expect(doc.value).toContain('Ann Lee, release manager');
    expect(Object.values(doc.data.priors ?? {}).map((prior) => prior.label)).toEqual(['signature']);
    expect(doc.data.ruleSavings?.find((saving) => saving.rule === 'regex:email-quoted-replies')?.hits).toBe(1);
  });

  it('rejects an unknown rule in `remove`', () => {
    expect(() => filterBoilerplate({ remove: ['email-quotes'] })).toThrow(/`remove\[0\]`.*`email-quotes`/);
  });

  it('labels site chrome instead of deleting it', async () => {
    const doc = await run('Home > News > World\n\nTurnout was 61%.\n\n© 2024 Example News. All rights reserved.', {}, 'html');
    expect(doc.value).toContain('Home > News > World');
    expect(Object.values(doc.data.priors ?? {}).map((prior) => prior.label).sort()).toEqual(['legal', 'navigation']);
  });
});
