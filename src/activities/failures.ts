import { ApplicationFailure } from '@temporalio/common';

/** Failure types the workflow and callers can match on; all are final (retrying cannot fix bad input). */
export const FailureType = {
  datasetUnavailable: 'DatasetUnavailable',
  datasetInvalid: 'DatasetInvalid',
  trainingFailed: 'TrainingFailed',
  invalidInput: 'InvalidInput',
  /** The dataset needs more memory than DATA_MEMORY_LIMIT gives the data engine. */
  datasetTooLarge: 'DatasetTooLarge',
} as const;

export function nonRetryable(type: (typeof FailureType)[keyof typeof FailureType], message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}
