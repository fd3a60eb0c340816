"""`cairn worker` and `cairn scheduler`: the background side. Like `cairn web` they need
CAIRN_DATABASE_URL and CAIRN_REDIS_URL; `cairn serve` runs both for the embedded default."""

from __future__ import annotations

import click

from cairn.cli.context import cli_tenant, external_settings, open_runtime, project_option
from cairn.cli.output import Result, command_output, table
from cairn.errors import Invalid
from cairn.jobs import service as job_service

SWEEP_EVERY_SECONDS = 15
HOUSEKEEPING_EVERY_SECONDS = 3600


@click.command("worker")
@click.option(
    "--queues",
    "-q",
    default="default,webhooks,email",
    show_default=True,
    help="Comma-separated queues, in priority order.",
)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option(
    "--fork/--no-fork",
    default=False,
    show_default=True,
    help="Run each job in a forked process (isolation) or in the worker (throughput).",
)
@command_output
def worker(queues: str, burst: bool, fork: bool) -> None:
    """Run jobs from the queues. SIGTERM finishes the running job, then exits.

    By default jobs run in the worker process, which keeps its database connections: a
    forked work horse per job costs a fork and fresh connections each time. Anything a
    killed worker leaves unfinished is picked up from the database by the sweepers."""
    from rq import Queue, SimpleWorker, Worker

    from cairn.jobs import context
    from cairn.jobs.queues import QUEUES
    from cairn.runtime import Runtime

    names = [n.strip() for n in queues.split(",") if n.strip()]
    unknown = [n for n in names if n not in QUEUES]
    if unknown or not names:
        raise Invalid(errors={"queues": [f"choose from {', '.join(QUEUES)}"]})
    settings = external_settings("worker")
    runtime = Runtime(settings)
    context.use(runtime, forking=fork)
    worker_class = Worker if fork else SimpleWorker
    rq_worker = worker_class(
        [Queue(n, connection=runtime.redis) for n in names], connection=runtime.redis
    )
    # with_scheduler: retries are scheduled jobs (enqueue_in), moved to their queue when due.
    rq_worker.work(burst=burst, logging_level=settings.log_level, with_scheduler=True)


@click.command("scheduler")
@command_output
def scheduler() -> None:
    """Enqueue the periodic jobs: the outbox sweeper, housekeeping and the project
    schedules' tick. Safe to run more than one: each tick fires once."""
    from rq.cron import CronScheduler

    from cairn.jobs import tasks
    from cairn.mail import tasks as mail_tasks
    from cairn.runtime import Runtime
    from cairn.schedules import tasks as schedule_tasks
    from cairn.schedules.service import TICK_EVERY_SECONDS

    settings = external_settings("scheduler")
    runtime = Runtime(settings)
    cron = CronScheduler(connection=runtime.redis, logging_level=settings.log_level)
    cron.register(tasks.sweep_outbox, queue_name="default", interval=SWEEP_EVERY_SECONDS)
    cron.register(tasks.housekeeping, queue_name="default", interval=HOUSEKEEPING_EVERY_SECONDS)
    cron.register(mail_tasks.sweep_mail, queue_name="email", interval=60)
    # Project schedules: a tick job every 20 s claims due ticks (each exactly once).
    cron.register(schedule_tasks.tick_schedules, queue_name="default", interval=TICK_EVERY_SECONDS)
    cron.start()  # type: ignore[no-untyped-call]


@click.group("jobs")
def jobs_group() -> None:
    """A project's background jobs: list, show, retry, purge the failed ones."""


_JOB_COLUMNS = ["id", "function", "queue", "status", "enqueued_at", "ended_at", "error"]


@jobs_group.command("list")
@project_option
@click.option("--status", type=click.Choice(job_service.STATUSES), help="Only jobs in this state.")
@command_output
def jobs_list(slug: str, status: str | None) -> Result:
    """List the project's recent jobs, newest first."""
    with open_runtime(redis=True) as rt:
        views = job_service.list_jobs(rt.redis, rt.projects.resolve(slug).id, status=status)
    rows = [v.as_dict() for v in views]
    return Result({"items": rows}, table(rows, _JOB_COLUMNS) if rows else ["no jobs"])


@jobs_group.command("show")
@project_option
@click.argument("job_id")
@command_output
def jobs_show(slug: str, job_id: str) -> Result:
    """Show one job (status, times, retries left, error summary)."""
    with open_runtime(redis=True) as rt:
        view = job_service.get_job(rt.redis, rt.projects.resolve(slug).id, job_id)
    return Result(view.as_dict(), [f"{k}: {v}" for k, v in view.as_dict().items()])


@jobs_group.command("retry")
@project_option
@click.argument("job_id")
@command_output
def jobs_retry(slug: str, job_id: str) -> Result:
    """Put a failed job back on its queue."""
    with open_runtime(redis=True) as rt:
        project = rt.projects.resolve(slug)
        with cli_tenant(rt, project) as conn:
            view = job_service.retry_job(conn, rt.redis, project.id, job_id, actor="operator")
    return Result(view.as_dict(), [f"requeued job {view.id}"])


@jobs_group.command("purge-failed")
@project_option
@command_output
def jobs_purge_failed(slug: str) -> Result:
    """Delete the project's failed jobs."""
    with open_runtime(redis=True) as rt:
        project = rt.projects.resolve(slug)
        with cli_tenant(rt, project) as conn:
            purged = job_service.purge_failed(conn, rt.redis, project.id, actor="operator")
    return Result({"purged": purged}, [f"purged {purged} failed job(s)"])
