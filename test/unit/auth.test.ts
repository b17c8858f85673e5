import { describe, it, expect } from 'vitest';
import { PERMISSIONS, can, type Permission } from '../../src/api/auth';
import { Authenticator, parseTokenSpec, type Caller, type Role } from '../../src/auth/apiTokens';

const T_ALICE = 'alice-token-0123456789';
const T_BOB = 'bob-token-abcdefghijkl';
const T_VIC = 'vic-token-ZYXWVUTSRQPO';

function parseError(spec: string): string {
  try {
    parseTokenSpec(spec);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected parseTokenSpec to refuse ${JSON.stringify(spec)}`);
}

describe('parseTokenSpec', () => {
  it('parses identity:role:token entries separated by commas, trimming spaces', () => {
    expect(parseTokenSpec(` alice:engineer:${T_ALICE} , bob:approver:${T_BOB},vic:viewer:${T_VIC}`)).toEqual([
      { identity: 'alice', role: 'engineer', token: T_ALICE },
      { identity: 'bob', role: 'approver', token: T_BOB },
      { identity: 'vic', role: 'viewer', token: T_VIC },
    ]);
  });

  it('keeps colons inside the token', () => {
    expect(parseTokenSpec('svc@ci:admin:abc:def:ghi:jkl:mnop')).toEqual([
      { identity: 'svc@ci', role: 'admin', token: 'abc:def:ghi:jkl:mnop' },
    ]);
  });

  it('ignores empty entries and an empty spec', () => {
    expect(parseTokenSpec('')).toEqual([]);
    expect(parseTokenSpec(` , ,alice:engineer:${T_ALICE},`)).toHaveLength(1);
  });

  it('refuses an unknown role, naming the entry and the field', () => {
    const msg = parseError(`alice:engineer:${T_ALICE},bob:superuser:${T_BOB}`);
    expect(msg).toContain('API_TOKENS entry 2 (bob)');
    expect(msg).toContain('role');
  });

  it('refuses a short token, naming the entry', () => {
    const msg = parseError('carol:viewer:short');
    expect(msg).toContain('entry 1 (carol)');
    expect(msg).toContain('token');
    expect(msg).toContain('16 characters');
  });

  it('accepts a token of exactly 16 characters and refuses 15', () => {
    expect(parseTokenSpec('carol:viewer:0123456789abcdef')[0].token).toHaveLength(16);
    expect(() => parseTokenSpec('carol:viewer:0123456789abcde')).toThrow(/token/);
  });

  it('refuses an entry without role and token', () => {
    const msg = parseError('alice');
    expect(msg).toContain('entry 1 (alice)');
    expect(msg).toContain('role');
    expect(msg).toContain('token');
  });

  it('refuses an invalid identity', () => {
    const msg = parseError(`-bad:viewer:${T_VIC}`);
    expect(msg).toContain('entry 1');
    expect(msg).toContain('identity');
  });

  it('does not leak the token value of a bad entry into the message', () => {
    const msg = parseError(`bob:superuser:${T_BOB}`);
    expect(msg).not.toContain(T_BOB);
  });
});

describe('Authenticator', () => {
  const auth = new Authenticator(
    parseTokenSpec(`alice:engineer:${T_ALICE},bob:approver:${T_BOB},vic:viewer:${T_VIC}`),
  );

  it('accepts the right bearer token and returns its caller', () => {
    expect(auth.authenticate(`Bearer ${T_ALICE}`)).toEqual({ identity: 'alice', role: 'engineer' });
    expect(auth.authenticate(`Bearer ${T_BOB}`)).toEqual({ identity: 'bob', role: 'approver' });
    expect(auth.authenticate(`Bearer ${T_VIC}`)).toEqual({ identity: 'vic', role: 'viewer' });
  });

  it('accepts the scheme case-insensitively', () => {
    expect(auth.authenticate(`bearer ${T_ALICE}`)?.identity).toBe('alice');
    expect(auth.authenticate(`BEARER ${T_ALICE}`)?.identity).toBe('alice');
  });

  it('rejects an unknown token', () => {
    expect(auth.authenticate('Bearer not-a-known-token-at-all')).toBeNull();
  });

  it('rejects a token that differs by one character or is a prefix/extension', () => {
    expect(auth.authenticate(`Bearer ${T_ALICE.slice(0, -1)}X`)).toBeNull();
    expect(auth.authenticate(`Bearer ${T_ALICE.slice(0, -1)}`)).toBeNull();
    expect(auth.authenticate(`Bearer ${T_ALICE}0`)).toBeNull();
  });

  it.each([
    ['no header', undefined],
    ['empty header', ''],
    ['bare token', T_ALICE],
    ['Basic scheme', `Basic ${T_ALICE}`],
    ['scheme only', 'Bearer'],
    ['scheme and space', 'Bearer '],
    ['two tokens', `Bearer ${T_ALICE} ${T_BOB}`],
    ['no space', `Bearer${T_ALICE}`],
  ])('rejects a malformed header (%s)', (_label, header) => {
    expect(auth.authenticate(header)).toBeNull();
  });

  it('authenticates nobody when there are no tokens', () => {
    expect(new Authenticator([]).authenticate(`Bearer ${T_ALICE}`)).toBeNull();
  });
});

describe('can', () => {
  const caller = (role: Role): Caller => ({ identity: `${role}-user`, role });
  const table: Record<Role, Record<Permission, boolean>> = {
    viewer: { read: true, predict: true, start: false, decide: false, feedback: false, release: false },
    engineer: { read: true, predict: true, start: true, decide: false, feedback: true, release: true },
    approver: { read: true, predict: true, start: false, decide: true, feedback: false, release: true },
    admin: { read: true, predict: true, start: true, decide: true, feedback: true, release: true },
  };

  for (const [role, perms] of Object.entries(table) as [Role, Record<Permission, boolean>][]) {
    for (const [permission, allowed] of Object.entries(perms) as [Permission, boolean][]) {
      it(`${role} ${allowed ? 'may' : 'may not'} ${permission}`, () => {
        expect(can(caller(role), permission)).toBe(allowed);
      });
    }
  }

  it('covers exactly the six permissions', () => {
    expect(Object.keys(PERMISSIONS).sort()).toEqual(['decide', 'feedback', 'predict', 'read', 'release', 'start']);
  });

  it('approver cannot start and engineer cannot decide (requesting and approving stay apart)', () => {
    expect(can(caller('approver'), 'start')).toBe(false);
    expect(can(caller('engineer'), 'decide')).toBe(false);
  });
});
