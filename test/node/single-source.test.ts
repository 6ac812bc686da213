import { describe, expect, it } from 'vitest';
import { readSourceFiles } from '../support/node/source-files.ts';

// Each small rule of the gateway is written in one module and imported everywhere else, so the
// Worker, the admin API, the operator commands and the dev stack can never drift apart. This scan
// finds a second copy: the rule's tell-tale text in any other file of src/ or scripts/.

const files = readSourceFiles('src', 'scripts');

interface Rule {
  rule: string;
  /** Text only a copy of the rule contains. */
  tell: RegExp;
  /** The one module that writes it. */
  home: string;
}

const RULES: Rule[] = [
  {
    rule: 'the list of earlier secrets of a rotation is read',
    tell: /\.split\(','\)/,
    home: 'src/crypto/keyring.ts',
  },
  {
    rule: 'a host counts as loopback',
    tell: /'\[::1\]'|\^127\(/,
    home: 'src/validation/loopback.ts',
  },
  {
    rule: 'a Postgres connection string is recognised',
    tell: /'postgres:'|'postgresql:'/,
    home: 'src/validation/postgres-url.ts',
  },
  {
    rule: 'a database id (UUID) is matched',
    tell: /\[0-9a-f\]\{8\}-/,
    home: 'src/db/ids.ts',
  },
  {
    rule: "the local bridge's secret is matched",
    tell: /\{43,\}/,
    home: 'src/validation/bridge-secret.ts',
  },
  {
    rule: 'a GitHub login is matched',
    tell: /\{0,38\}|\{1,39\}/,
    home: 'src/validation/github-identity.ts',
  },
  {
    rule: 'a GitHub id is matched',
    tell: /\\d\{1,20\}/,
    home: 'src/validation/github-identity.ts',
  },
  {
    rule: 'the verify codes are listed',
    tell: /'revoked_session',\s*'foreign_session'/,
    home: 'src/verify/verify-person.ts',
  },
  {
    rule: "zod's first issue is worded",
    tell: /\.issues\[0\]/,
    home: 'src/validation/zod-issues.ts',
  },
  {
    rule: "a gateway cookie's attributes are set",
    tell: /httpOnly: true/,
    home: 'src/sign-in/cookie-options.ts',
  },
  {
    rule: "a key rotation's default grace period is set",
    tell: /24 \* 3600|0-720/,
    home: 'src/services/admin.ts',
  },
];

describe('each small rule has one source', () => {
  it.each(RULES)('$rule only in $home', ({ tell, home }) => {
    const copies = files.filter(({ file, text }) => tell.test(text) && file !== home).map(({ file }) => file);
    expect(copies).toEqual([]);
    expect(files.find(({ file }) => file === home)?.text).toMatch(tell);
  });
});
