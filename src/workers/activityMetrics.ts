import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { metrics } from '../metrics';

/**
 * Counts every activity attempt of this process's workers (started, completed, failed by activity type
 * and failure type, and its duration) for `/metrics`: one interceptor instead of code in each activity.
 * The counts are served where the API runs in the same process (`npm start`); a worker process of its
 * own keeps them in memory only.
 */
export const activityMetrics: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: {
    async execute(input, next) {
      const activity = ctx.info.activityType;
      metrics.activitiesStarted.inc({ activity });
      const end = metrics.activitySeconds.startTimer({ activity });
      try {
        const result = await next(input);
        metrics.activitiesCompleted.inc({ activity });
        return result;
      } catch (err) {
        const type = err instanceof ApplicationFailure && err.type ? err.type : ((err as Error)?.name ?? 'Error');
        metrics.activitiesFailed.inc({ activity, error: type });
        throw err;
      } finally {
        end();
      }
    },
  },
});
