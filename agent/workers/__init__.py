"""Jobs in worker processes (issue 11): the daemon keeps the scheduler, the exporter and the
state; every job but `collect` runs in a process started for the run.

- `runner`: the daemon's side. `WorkerAction` is a `JobAction` the scheduler runs like any other:
  it starts `python -m agent.workers.child`, sends the job over the child's stdin, serves the
  child's state writes and `request_run` calls, and kills the child (and what it started) at the
  job's timeout, at shutdown after a grace, or never at all when it ends by itself.
- `child`: the worker. It caps its own memory before it imports the job, runs the action with a
  `WorkerState` and sends back the `JobOutcome`.
- `proxy`: `WorkerState`, the child's state: reads from the database (a read-only connection),
  writes sent to the daemon, which applies each one at once and answers.
- `wire`: length-prefixed pickle frames over the two pipes.

Nothing depends on fork: the child is a fresh interpreter on Linux and on Windows.
"""
