import { decodeScheduleSpec, encodeScheduleSpec } from '@temporalio/client/lib/schedule-helpers';
import { describe, expect, it } from 'vitest';
import { parseSchedulesFile, readSchedulesFile } from '../../src/schedules/file';
import { calendarSpec, desiredSchedules } from '../../src/schedules/plan';
import { RetrainInput } from '../../src/schemas/monitoring';

const lifecycle = { datasetUri: 'data/cars-*.csv', target: 'price', features: ['year', 'fuel'], approvers: ['alice'] };
const file = (models: unknown) => JSON.stringify({ models });
const errorOf = (text: string) => {
  try {
    parseSchedulesFile(text, 'lifecycle.schedules.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
};

describe('schedules file', () => {
  it('names the path in the file of what is wrong', () => {
    const retraining = (extra: object) => file({ cars: { retraining: { calendar: { hour: 2 }, lifecycle, ...extra } } });
    expect(errorOf(file({ cars: { retraining: { calendar: { hour: 24 }, lifecycle } } }))).toMatch(/^lifecycle\.schedules\.yaml: models\.cars\.retraining\.calendar\.hour: must be an hour, 0-23$/);
    expect(errorOf(retraining({ timezone: 'Mars/Olympus' }))).toMatch(/models\.cars\.retraining\.timezone: must be an IANA time zone/);
    expect(errorOf(retraining({ jitter: 'soon' }))).toMatch(/models\.cars\.retraining\.jitter: must be a duration/);
    expect(errorOf(retraining({ catchupWindow: '5s' }))).toMatch(/models\.cars\.retraining\.catchupWindow: must be at least 10s/);
    expect(errorOf(retraining({ overlap: 'skip-it' }))).toMatch(/models\.cars\.retraining\.overlap: /);
    // The fields of the workflow input are checked by its own schema, at their place in the file.
    expect(errorOf(retraining({ lifecycle: { ...lifecycle, features: [] } }))).toMatch(/models\.cars\.retraining\.lifecycle\.features: must list at least one feature column/);
    expect(errorOf(retraining({ trigger: 'drift' }))).toMatch(/models\.cars\.retraining: Unrecognized key: "trigger"/);
    expect(errorOf(file({ cars: { retraining: { calendar: {}, lifecycle } } }))).toMatch(/models\.cars\.retraining\.calendar\.hour: is required \(or give a cron string\)/);
    expect(errorOf(file({ cars: { retraining: { calendar: { cron: '0 3 1 * MON' }, lifecycle } } }))).toMatch(/models\.cars\.retraining\.calendar\.cron: restrict day-of-month or day-of-week, not both/);
    expect(errorOf(file({ cars: { retraining: { calendar: { cron: '0 3 L * *' }, lifecycle } } }))).toMatch(/calendar\.cron: L, W, # and \? are not supported/);
    expect(errorOf(file({ cars: { retraining: { calendar: { cron: '0 3 * *' }, lifecycle } } }))).toMatch(/calendar\.cron: must be a 5-field cron expression/);
    expect(errorOf(file({ cars: { monitoring: { every: '1h', calendar: { hour: 1 } } } }))).toMatch(/models\.cars\.monitoring\.calendar: give either every \(an interval\) or calendar/);
    expect(errorOf(file({ cars: { monitoring: { every: '1h', offset: '2h' } } }))).toMatch(/models\.cars\.monitoring\.offset: must be shorter than every/);
    expect(errorOf(file({ cars: { monitoring: { every: '1h', policy: { pValue: 2 } } } }))).toMatch(/models\.cars\.monitoring\.policy\.pValue: /);
    expect(errorOf(file({ cars: {} }))).toMatch(/models\.cars: must declare retraining or monitoring/);
    expect(errorOf(file({ 'no/slash': { monitoring: { every: '1h' } } }))).toMatch(/models\.no\/slash: /);
    expect(errorOf('models:\n  cars: [\n')).toMatch(/^lifecycle\.schedules\.yaml:\d+:\d+: not YAML or JSON/);
    expect(errorOf('{}')).toMatch(/models: /);
  });

  it('starts each workflow with an input its own schema accepts, set for the schedule', () => {
    const parsed = parseSchedulesFile(file({ cars: { retraining: { calendar: { hour: 2 }, lifecycle, cooldown: '6h' }, monitoring: { every: '1h' } } }), 'f');
    const [retraining, monitoring] = desiredSchedules(parsed, 'q');
    const input = retraining.options.action.args[0];
    expect(RetrainInput.parse(input)).toEqual(input);
    expect(input).toMatchObject({ modelName: 'cars', trigger: 'schedule', cooldown: '6h', lifecycle: { datasetUri: 'data/cars-*.csv' } });
    expect(monitoring.options.action.args[0]).toMatchObject({ modelName: 'cars', current: { window: '24h' } });
    expect(retraining.options.policies).toEqual({ overlap: 'SKIP', catchupWindow: '1h', pauseOnFailure: false });
  });

  it('turns a cron string into the calendar that says the same', () => {
    const compiled = (spec: Parameters<typeof calendarSpec>[0]) => ({ ...decodeScheduleSpec(encodeScheduleSpec({ calendars: [calendarSpec(spec)] })).calendars![0]!, comment: '' });
    expect(compiled({ cron: '30 2 * * 1-5' })).toEqual(compiled({ hour: [2], minute: [30], dayOfWeek: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] }));
    expect(compiled({ cron: '0 0 * * 7' }).dayOfWeek).toEqual([{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }]);
    expect(compiled({ cron: '*/20 6 1,15 * *' })).toMatchObject({ minute: [0, 20, 40].map((m) => ({ start: m, end: m, step: 1 })), dayOfMonth: [1, 15].map((d) => ({ start: d, end: d, step: 1 })) });
  });

  it('accepts the example file the README shows', async () => {
    const parsed = await readSchedulesFile('examples/lifecycle.schedules.yaml');
    const schedules = desiredSchedules(parsed, 'lifecycle');
    expect(schedules.map((s) => s.id)).toEqual(['lifecycle:used-car-price:retraining', 'lifecycle:used-car-price:monitoring']);
    // The YAML anchor: the monitor's retraining is the nightly one's lifecycle.
    const retrain = (schedules[1].options.action.args[0] as { retrain: { lifecycle: unknown } }).retrain.lifecycle;
    expect(retrain).toEqual((schedules[0].options.action.args[0] as { lifecycle: unknown }).lifecycle);
  });
});
