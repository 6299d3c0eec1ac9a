"""The pure engine core: what happens in a run, with no Django, Celery or database.

- `states`: Kestra's states, predicates and allowed transitions;
- `model`: the execution snapshot (frozen dataclasses, Kestra's JSON shape);
- `flow`: the engine's typed view of a validated flow;
- `decide`: the executor's decision function, `decide(flow, execution, now) -> actions`;
- `actions` / `apply`: what it asks for, and how that is applied in memory;
- `commands`: kill, pause, resume, and a worker's claim and result, as actions;
- `flowables`: the Sequential, Parallel, If, Switch, ForEach, Dag... handlers;
- `tasks` / `worker`: runnable task implementations and one attempt of one task run;
- `ports` / `services`: storage and KV ports, and what `kv()`, `errorLogs()`... reach;
- `variables`: what templates see; `rendering`: the port to `flows.expressions`;
- `runner`: the in-process runner (`run_flow`) for `flow test` and the tests;
- `inputs`: typing and validation of execution inputs.
"""
