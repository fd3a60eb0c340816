"""Apply reports its progress step by step, and says how many steps there will be first."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from cairn.runtime import Runtime
from cairn.tenancy import project_file
from cairn.tenancy.apply import apply_project
from tests.factories import make_project


@dataclass
class Recorded:
    """A Progress that remembers what it was told."""

    totals: list[int] = field(default_factory=list)
    done: int = 0

    def expect(self, total: int) -> None:
        assert self.done == 0, "the total comes before the work"
        self.totals.append(total)

    def advance(self, done: int) -> None:
        self.done += done


FILE = """
limits: {data: "100/minute"}
collections:
  - name: notes
    fields: {body: {type: text}, tag: {type: text}}
    indexes: [{fields: [tag]}]
"""


def test_apply_reports_each_step_it_runs(runtime: Runtime) -> None:
    project = make_project(runtime)
    recorded = Recorded()
    with runtime.db.owner(project.id) as conn:
        applied = apply_project(
            conn,
            runtime.webhook_box,
            project,
            project_file.parse(textwrap.dedent(FILE)),
            provider_box=runtime.provider_box,
            actor="operator",
            app_role=runtime.settings.db_app_role,
            allow_private=True,
            progress=recorded,
        )
    runs = [s for s in applied.plan.steps if s.run is not None]
    assert len(runs) == 2  # the table (made with its indexes) and the limits
    assert recorded.totals == [len(runs)] and recorded.done == len(runs)
