"""chaos: deterministic fault injection for jido_trio systems.

Layout: every public name is re-exported here, one a line; the modules behind
them are private. ``_plan`` (fault plans as data), ``_expand`` (generators and
swarm mode), ``_engine`` (the interceptor, the timeline and the trace of a
run), ``_run`` (:func:`run`, :func:`run_async`, :func:`check_determinism`),
``_checks`` and ``_report`` (verdicts), ``_workload``, ``_points``
(:func:`fault_point`), ``_shrink`` (:func:`shrink`), ``_scenario`` (scenario
files), ``_cli`` (``python -m chaos``, with ``_journal``, ``_junit`` and
``_progress``), ``_seeds`` (one root seed, many streams) and
``_determinism`` (the only module that touches Trio's private scheduler
state). ``chaos`` depends on ``jido_trio`` and injects every fault through its
public seams; ``jido_trio`` never imports ``chaos``.
``_strategies`` (Hypothesis strategies for fault plans, :func:`assert_ok`)
and ``_pytest_plugin`` (the ``pytest11`` plugin ``chaos``) serve tests.

PYTEST_DONT_REWRITE: pytest rewrites the asserts of a distribution that ships a
pytest plugin; not in this module, whose namespace is the public API.
"""

from ._checks import BUILTIN_CHECKS as BUILTIN_CHECKS
from ._checks import Bound as Bound
from ._checks import CheckKind as CheckKind
from ._checks import CheckResult as CheckResult
from ._checks import Eventually as Eventually
from ._checks import Invariant as Invariant
from ._checks import Sometimes as Sometimes
from ._checks import Verdict as Verdict
from ._errors import ChaosError as ChaosError
from ._errors import InjectedFault as InjectedFault
from ._errors import InjectedStoreError as InjectedStoreError
from ._errors import InvalidPlanError as InvalidPlanError
from ._errors import NondeterminismError as NondeterminismError
from ._plan import FAULT_KINDS as FAULT_KINDS
from ._plan import CorruptLoad as CorruptLoad
from ._plan import CorruptMessage as CorruptMessage
from ._plan import CorruptState as CorruptState
from ._plan import Crash as Crash
from ._plan import Delay as Delay
from ._plan import Drop as Drop
from ._plan import Duplicate as Duplicate
from ._plan import FailStart as FailStart
from ._plan import Fault as Fault
from ._plan import FaultKind as FaultKind
from ._plan import FaultPlan as FaultPlan
from ._plan import Hang as Hang
from ._plan import Kill as Kill
from ._plan import Partition as Partition
from ._plan import Pause as Pause
from ._plan import RandomFaults as RandomFaults
from ._plan import Reorder as Reorder
from ._plan import RestartStorm as RestartStorm
from ._plan import StaleLoad as StaleLoad
from ._plan import StoreSlow as StoreSlow
from ._plan import StoreWriteFail as StoreWriteFail
from ._points import fault_point as fault_point
from ._report import FaultRecord as FaultRecord
from ._report import RunReport as RunReport
from ._run import System as System
from ._run import check_determinism as check_determinism
from ._run import run as run
from ._run import run_async as run_async
from ._run import shrink as shrink
from ._scenario import Scenario as Scenario
from ._scenario import ScenarioError as ScenarioError
from ._scenario import load_scenario as load_scenario
from ._scenario import loads_scenario as loads_scenario
from ._scenario import new_scenario as new_scenario
from ._scenario import scenario_schema as scenario_schema
from ._shrink import Shrunk as Shrunk
from ._strategies import ChecksFailedError as ChecksFailedError
from ._strategies import assert_ok as assert_ok
from ._strategies import fault_plans as fault_plans
from ._strategies import faults as faults
from ._view import SystemView as SystemView
from ._workload import Client as Client
from ._workload import Reply as Reply
from ._workload import Send as Send
from ._workload import Workload as Workload

__version__ = "0.1.0.dev0"

from jido_trio._util import fixup_module_metadata as _fixup_module_metadata

_fixup_module_metadata(__name__, globals())
