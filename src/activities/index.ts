import { approvalActivities } from './approval';
import { dataActivities } from './data';
import type { ActivityDeps } from './deps';
import { deploymentActivities } from './deployment';
import { evaluationActivities } from './evaluation';
import { notificationActivities } from './notifications';
import { rollbackActivities } from './rollback';
import { monitoringActivities } from './monitoring';
import { retrainingActivities } from './retraining';
import { trainingActivities } from './training';

export type { ActivityDeps } from './deps';

/** Every activity of the lifecycle, bound to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...dataActivities(deps),
    ...trainingActivities(deps),
    ...evaluationActivities(deps),
    ...approvalActivities(deps),
    ...deploymentActivities(deps),
    ...rollbackActivities(deps),
    ...notificationActivities(deps),
    ...monitoringActivities(deps),
    ...retrainingActivities(deps),
  };
}

export type LifecycleActivities = ReturnType<typeof createActivities>;
