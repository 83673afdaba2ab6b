"""jido_trio: Jido's reliability architecture on Trio.

Layout: every public name is re-exported here, one a line; the modules behind
them are private (``_supervisor.py``, ``_agent.py``, ...). ``docs/design.md``
gives a tour of the internals.

PYTEST_DONT_REWRITE: this distribution ships a pytest plugin (chaos's), so pytest
rewrites the asserts of its modules; not this one, whose namespace is the public API.
"""

from ._action import Action as Action
from ._action import ActionResult as ActionResult
from ._action import Instruction as Instruction
from ._action import NoParams as NoParams
from ._action import action as action
from ._agent import Agent as Agent
from ._agent import AgentDef as AgentDef
from ._agent import CmdOutcome as CmdOutcome
from ._agent import cmd as cmd
from ._agent import execute as execute
from ._bus import Subscription as Subscription
from ._bus import publish as publish
from ._bus import subscribe as subscribe
from ._convert import make_converter as make_converter
from ._directive import Directive as Directive
from ._directive import Emit as Emit
from ._directive import Error as Error
from ._directive import Every as Every
from ._directive import Schedule as Schedule
from ._directive import SpawnAgent as SpawnAgent
from ._directive import Stop as Stop
from ._directive import StopChild as StopChild
from ._directive import check_directive as check_directive
from ._errors import ActionError as ActionError
from ._errors import AgentDownError as AgentDownError
from ._errors import AgentStopError as AgentStopError
from ._errors import CallTimeoutError as CallTimeoutError
from ._errors import ChildKilled as ChildKilled
from ._errors import ChildNotFoundError as ChildNotFoundError
from ._errors import ChildRunningError as ChildRunningError
from ._errors import ChildStartError as ChildStartError
from ._errors import DuplicateChildError as DuplicateChildError
from ._errors import InvalidActionError as InvalidActionError
from ._errors import InvalidAgentDefError as InvalidAgentDefError
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import InvalidChildSpecError as InvalidChildSpecError
from ._errors import InvalidDirectiveError as InvalidDirectiveError
from ._errors import InvalidParamsError as InvalidParamsError
from ._errors import InvalidRegistrationError as InvalidRegistrationError
from ._errors import InvalidRouteError as InvalidRouteError
from ._errors import InvalidSignalError as InvalidSignalError
from ._errors import InvalidStateError as InvalidStateError
from ._errors import JidoError as JidoError
from ._errors import MailboxFullError as MailboxFullError
from ._errors import RegistryError as RegistryError
from ._errors import RestartIntensityError as RestartIntensityError
from ._errors import StoreError as StoreError
from ._errors import SupervisorClosedError as SupervisorClosedError
from ._errors import TooManyChildrenError as TooManyChildrenError
from ._errors import UnknownActionError as UnknownActionError
from ._errors import UnknownDirectiveError as UnknownDirectiveError
from ._errors import UnroutableSignalError as UnroutableSignalError
from ._intercept import Interceptor as Interceptor
from ._intercept import intercept as intercept
from ._random import run_random as run_random
from ._random import set_id_factory as set_id_factory
from ._random import set_run_random as set_run_random
from ._registry import Registration as Registration
from ._registry import Registry as Registry
from ._registry import current_registry as current_registry
from ._registry import lookup as lookup
from ._registry import register as register
from ._registry import whereis as whereis
from ._server import AgentRef as AgentRef
from ._server import AgentStats as AgentStats
from ._server import DeadLetter as DeadLetter
from ._server import agent_spec as agent_spec
from ._server import dead_letters as dead_letters
from ._server import spec_ref as spec_ref
from ._signal import Router as Router
from ._signal import Signal as Signal
from ._store import CheckpointStore as CheckpointStore
from ._store import MemoryStore as MemoryStore
from ._store import SqliteStore as SqliteStore
from ._supervisor import Backoff as Backoff
from ._supervisor import ChildContext as ChildContext
from ._supervisor import ChildCounts as ChildCounts
from ._supervisor import ChildInfo as ChildInfo
from ._supervisor import ChildSpec as ChildSpec
from ._supervisor import Supervisor as Supervisor
from ._supervisor import current_child as current_child
from ._supervisor import kill as kill
from ._supervisor import open_supervisor as open_supervisor
from ._supervisor import supervisor_spec as supervisor_spec
from ._supervisor import tree as tree
from ._telemetry import TelemetryEvent as TelemetryEvent
from ._telemetry import attach_telemetry as attach_telemetry
from ._telemetry import log_telemetry as log_telemetry
from ._trace import Recorder as Recorder
from ._trace import TraceEvent as TraceEvent
from ._validate import AutoShutdown as AutoShutdown
from ._validate import ChildStatus as ChildStatus
from ._validate import DeadLetterReason as DeadLetterReason
from ._validate import RestartFrom as RestartFrom
from ._validate import RestartType as RestartType
from ._validate import Strategy as Strategy

__version__ = "0.1.0.dev0"

# last: make every public name show its public path (jido_trio.X) in reprs
from ._util import fixup_module_metadata as _fixup_module_metadata

_fixup_module_metadata(__name__, globals())
