import { describe, it, expect } from 'vitest';
import type { ModelSignature } from '../../src/registry/registry';
import { RowsError, rowsToTable } from '../../src/serving/rows';

const signature: ModelSignature = {
  inputs: [
    { name: 'km', kind: 'numeric' },
    { name: 'fuel', kind: 'categorical' },
  ],
  output: 'price',
};

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('rowsToTable', () => {
  it('builds typed columns in row order', () => {
    const t = rowsToTable(
      [
        { km: 10, fuel: 'diesel' },
        { km: 2.5, fuel: 'petrol' },
        { km: -1, fuel: 'diesel' },
      ],
      signature,
    );
    expect(t.rowCount).toBe(3);
    expect(t.columns.km.kind).toBe('numeric');
    expect(Array.from(t.columns.km.values as Float64Array)).toEqual([10, 2.5, -1]);
    expect(t.columns.km.values).toBeInstanceOf(Float64Array);
    expect(t.columns.fuel).toEqual({ kind: 'categorical', values: ['diesel', 'petrol', 'diesel'] });
  });

  it('turns a numeric null into NaN and keeps a categorical null', () => {
    const t = rowsToTable([{ km: null, fuel: null }, { km: 3, fuel: 'lpg' }], signature);
    const km = t.columns.km.values as Float64Array;
    expect(Number.isNaN(km[0])).toBe(true);
    expect(km[1]).toBe(3);
    expect(t.columns.fuel.values).toEqual([null, 'lpg']);
  });

  it('ignores fields the model does not use', () => {
    const t = rowsToTable([{ km: 1, fuel: 'x', color: 'red' }], signature);
    expect(Object.keys(t.columns).sort()).toEqual(['fuel', 'km']);
  });

  it('handles an empty batch', () => {
    const t = rowsToTable([], signature);
    expect(t.rowCount).toBe(0);
    expect((t.columns.km.values as Float64Array).length).toBe(0);
    expect(t.columns.fuel.values).toEqual([]);
  });

  it('refuses a string in a numeric field, naming rows[i].field and the value', () => {
    const err = catchError(() => rowsToTable([{ km: 1, fuel: 'a' }, { km: '12', fuel: 'b' }], signature));
    expect(err).toBeInstanceOf(RowsError);
    expect(err.name).toBe('RowsError');
    expect(err.message).toContain('rows[1].km');
    expect(err.message).toContain('"12"');
  });

  it.each([[true], [{}], [[1]], [Infinity], [Number.NaN]])('refuses %j in a numeric field', (bad) => {
    const err = catchError(() => rowsToTable([{ km: bad, fuel: 'a' }], signature));
    expect(err).toBeInstanceOf(RowsError);
    expect(err.message).toContain('rows[0].km');
  });

  it('refuses a missing key, telling the caller to send null', () => {
    const err = catchError(() => rowsToTable([{ km: 1, fuel: 'a' }, { km: 2, fuel: 'b' }, { fuel: 'c' }], signature));
    expect(err).toBeInstanceOf(RowsError);
    expect(err.message).toContain('rows[2].km');
    expect(err.message).toContain('missing');
    expect(err.message).toContain('null');
  });

  it('does not accept an inherited property as present', () => {
    const row = Object.create({ km: 5 }) as Record<string, unknown>;
    row.fuel = 'a';
    const err = catchError(() => rowsToTable([row], signature));
    expect(err).toBeInstanceOf(RowsError);
    expect(err.message).toContain('rows[0].km');
  });

  it('checks every value of every row once one row is not a plain object (inherited values of any kind refused)', () => {
    const inherits = (proto: object, own: Record<string, unknown>) => Object.assign(Object.create(proto) as Record<string, unknown>, own);
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { km: 2, fuel: null });
    const t = rowsToTable([{ km: 1, fuel: 'a' }, bare], signature);
    expect([...(t.columns.km.values as Float64Array)]).toEqual([1, 2]);
    expect(t.columns.fuel.values).toEqual(['a', null]);
    for (const [row, field] of [
      [inherits({ km: 5 }, { fuel: 'b' }), 'km'],
      [inherits({ km: null }, { fuel: 'b' }), 'km'],
      [inherits({ fuel: 'x' }, { km: 5 }), 'fuel'],
      [inherits({ fuel: null }, { km: 5 }), 'fuel'],
    ] as const) {
      const err = catchError(() => rowsToTable([{ km: 1, fuel: 'a' }, row], signature));
      expect(err.message).toBe(`rows[1].${field}: missing (send null for an unknown value)`);
    }
  });

  it('refuses a number in a categorical field', () => {
    const err = catchError(() => rowsToTable([{ km: 1, fuel: 3 }], signature));
    expect(err).toBeInstanceOf(RowsError);
    expect(err.message).toContain('rows[0].fuel');
    expect(err.message).toContain('expected a string or null');
    expect(err.message).toContain('3');
  });

  it('refuses a missing categorical key', () => {
    const err = catchError(() => rowsToTable([{ km: 1 }], signature));
    expect(err).toBeInstanceOf(RowsError);
    expect(err.message).toContain('rows[0].fuel');
  });
});
