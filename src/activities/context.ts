import { Context } from '@temporalio/activity';

/** The workflow run this activity works for: its ids are the natural keys of what the activity writes. */
export function currentRun(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('this activity must run inside a workflow');
  return execution;
}
