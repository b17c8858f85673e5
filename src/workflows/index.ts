// The workflow bundle's entry point: every workflow type the worker runs.
export { modelLifecycle } from './lifecycle';
export { rollbackModel } from './rollback';
export { deliverNotification } from './notify';
export { driftMonitor } from './driftMonitor';
export { retrainModel } from './retrain';
