import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';

describe('PREDICTION_LOG_RETENTION', () => {
  it('is a duration (default 30d) or "off"; anything else names the setting', () => {
    expect(loadConfig({}).PREDICTION_LOG_RETENTION).toBe('30d');
    expect(loadConfig({ PREDICTION_LOG_RETENTION: '90d' }).PREDICTION_LOG_RETENTION).toBe('90d');
    expect(loadConfig({ PREDICTION_LOG_RETENTION: 'off' }).PREDICTION_LOG_RETENTION).toBe('off');
    expect(() => loadConfig({ PREDICTION_LOG_RETENTION: 'forever' })).toThrow(/PREDICTION_LOG_RETENTION: must be a duration like "30d" \(1ms to 366d\), or "off"/);
    expect(() => loadConfig({ PREDICTION_LOG_RETENTION: '400d' })).toThrow(/PREDICTION_LOG_RETENTION/);
  });
});
