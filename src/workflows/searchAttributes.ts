import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes the lifecycle sets, so approvers can filter runs in the Temporal UI. */
export const ModelName = defineSearchAttributeKey('ModelName', SearchAttributeType.KEYWORD);
export const LifecycleStage = defineSearchAttributeKey('LifecycleStage', SearchAttributeType.KEYWORD);
/** The drift monitor's latest verdict on a model: drifted, ok or not-enough-data (filter: DriftStatus = "drifted"). */
export const DriftStatus = defineSearchAttributeKey('DriftStatus', SearchAttributeType.KEYWORD);

/** Name → type, as the dev server's `--search-attribute` flag and the operator API take them. */
export const SEARCH_ATTRIBUTES = { ModelName: 'Keyword', LifecycleStage: 'Keyword', DriftStatus: 'Keyword' } as const;
