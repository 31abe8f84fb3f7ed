"""`hybrid mcp serve`: the agent, the sites' operations and the verified workflows as MCP tools.

Every call an MCP client makes goes through the same policy and record as a kernel's calls: operations
through a bridge dispatcher (`call_operation`), workflows and tasks in an isolated kernel. In confirm mode
the client's user is asked through elicitation; a client that cannot ask gets every write refused.
Runs are readable as resources (`hybrid://runs`, `hybrid://runs/{run_id}`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, cast

import anyio
from mcp import MCPError
from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

import apis
from apis.mcpsites import McpConnection, McpRegistry, search_tools, tool_help, tool_line
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ModelError, load_chat_model
from hybrid.agent.run import AgentError
from hybrid.agent.runtime import AgentRuntime, SiteHandle, StepCallback, api_capability
from hybrid.config import Settings
from hybrid.mcp.capability import CAPABILITY as MCP_CAPABILITY, mcp_capability
from sandbox import Call, CallRecord, KernelPool, PermissionDenied, Policy, PolicyMode
from sandbox.bridge import Dispatcher
from sandbox.text import clip
from workflows.fastpath import FastPathMatch, run_fast_path
from workflows.memory import Workflow, WorkflowStore
from workflows.store import StepRecord
from workflows.templates import misfit

SERVER_NAME = "hybrid"
CLIENT_MODEL = "mcp-client"
RECENT_RUNS = 50
PYTHON_TYPES: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}
READS = ToolAnnotations(read_only_hint=True, open_world_hint=True)


class Approval(BaseModel):
    """What the client's user is asked before a write in confirm mode."""

    approve: bool = Field(description="Let this call run")


@dataclass(frozen=True)
class Decision:
    """Whether a tool call's writes may run, decided before it starts, without asking anyone."""

    allowed: bool
    refusal: str = ""


CANNOT_ASK = (
    "it writes, this server asks before each write (--policy confirm), and this MCP client cannot "
    "ask its user (it does not support elicitation). Use a client that does, or a server with another "
    "policy."
)
ALLOWED = Decision(allowed=True)


def _can_ask(ctx: Context) -> bool:
    capabilities = ctx.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None


def _hybrid_of(ctx: Context) -> HybridMcp:
    return cast(HybridMcp, ctx.request_context.lifespan_context)


async def ask_before_operation(
    site: str, operation: str, ctx: Context, arguments: dict[str, Any] | None = None
) -> Elicit[Approval] | Decision:
    """Before `call_operation` runs, in confirm mode: ask the client's user about a write, through
    elicitation (the SDK asks mid-call or by an input-required round, whichever the protocol uses)."""
    hybrid = _hybrid_of(ctx)
    if hybrid.policy_mode != "confirm" or not hybrid.writes(site, operation):
        return ALLOWED  # the policy refuses or allows as usual; an unknown one fails with its own message
    if not _can_ask(ctx):
        return Decision(allowed=False, refusal=CANNOT_ASK)
    shown = ", ".join(f"{key}={value!r}" for key, value in (arguments or {}).items())
    return Elicit(
        f"hybrid wants to run {hybrid.call_name(site, operation)}({shown[:500]}), which changes "
        "data. Allow it?",
        Approval,
    )


def _decision(outcome: ElicitationResult[Approval] | AcceptedElicitation[Any]) -> Decision:
    if isinstance(outcome, AcceptedElicitation):
        if isinstance(outcome.data, Decision):
            return outcome.data
        if outcome.data.approve:
            return ALLOWED
    return Decision(
        allowed=False, refusal="the user declined it. Do not retry it; try another way or finish."
    )


ApprovedOperation = Annotated[ElicitationResult[Approval], Resolve(ask_before_operation)]


class HybridMcp:
    """The MCP face of one configuration: its served sites, the policy mode, the model for `run_task`."""

    def __init__(
        self,
        settings: Settings,
        *,
        sites: list[str],
        policy: PolicyMode | None = None,
        model: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.sites = sites
        self.policy_mode = policy or settings.policy
        self.model_spec = model or settings.model
        self.base_url = base_url
        mcp_registry = McpRegistry(settings.data_dir)
        registry = apis.SiteRegistry(settings.data_dir)
        self.handles = {
            name: SiteHandle.from_registry(registry, name) for name in sites if not mcp_registry.has(name)
        }
        self.store = WorkflowStore(settings.effective_database_url)
        self._offered: set[str] = set()
        # One warm pool for every client's runs and workflow calls, opened on the first; each run still
        # gets a kernel, a runtime and a browser of its own (see `_run_task`).
        self._pool: KernelPool | None = None
        self._pool_lock = threading.Lock()
        self.connections: dict[str, McpConnection] = {}
        try:
            for name in sites:
                if mcp_registry.has(name):
                    self.connections[name] = mcp_registry.connect(name)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the MCP servers this one uses as sites, and the idle kernels of its pool."""
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def pool(self) -> KernelPool:
        """The server's kernel pool, shared by concurrent runs (each takes a kernel of its own from it)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = KernelPool(size=1, limits=self.settings.kernel_limits)
            return self._pool

    def build(self) -> MCPServer:
        @asynccontextmanager
        async def lifespan(_server: MCPServer) -> AsyncIterator[HybridMcp]:
            yield self  # tools' resolvers reach this object through their context

        server = MCPServer(
            SERVER_NAME,
            log_level="WARNING",
            lifespan=lifespan,
            instructions=(
                "hybrid does web tasks through sites' APIs (and a browser). run_task does a whole task with "
                "the agent; search_operations, describe_operation and call_operation reach the sites "
                f"({', '.join(self.sites) or 'none'}) one operation at a time; the other tools are verified "
                f"workflows. Policy: {self.policy_mode}."
            ),
        )
        server.add_tool(self.search_operations, annotations=READS)
        server.add_tool(self.describe_operation, annotations=READS)
        server.add_tool(self.call_operation, annotations=ToolAnnotations(open_world_hint=True))
        server.add_tool(self.run_task, annotations=ToolAnnotations(open_world_hint=True))
        self._offered = set()
        self._offer_workflows(server)
        server.resource(
            "hybrid://runs",
            name="runs",
            mime_type="application/json",
            description="The most recent runs: id, task, status, answer.",
        )(self.recent_runs)
        server.resource(
            "hybrid://runs/{run_id}",
            name="run",
            mime_type="application/json",
            description="One run with its steps and calls.",
        )(self.run_record)
        return server

    def _offer_workflows(self, server: MCPServer) -> bool:
        """Add a tool for each verified workflow not offered yet (runs verify new ones); True if any was."""
        new = [w for w in self.workflows() if w.name not in self._offered]
        for workflow in new:
            server.add_tool(
                self._workflow_tool(workflow),
                name=workflow.name,
                description=_workflow_doc(workflow),
                annotations=ToolAnnotations(
                    read_only_hint=not workflow.writes, destructive_hint=workflow.writes, open_world_hint=True
                ),
            )
            self._offered.add(workflow.name)
        return bool(new)

    def workflows(self) -> list[Workflow]:
        """The verified program workflows of the served API sites: one MCP tool each. One whose own source
        arguments do not fit it (see `workflows.templates.misfit`) could take no call: it is not offered."""
        return [
            w
            for w in self.store.list_workflows(sites=self.sites, statuses=["verified"])
            if w.kind == "program" and misfit(w.intent_template, w.parameters, w.source_arguments) is None
        ]

    async def search_operations(self, site: str, query: str, k: int = 10) -> list[str]:
        """The operations of `site` (the tools of an MCP server site) that best match `query`, one line each:
        name(arguments) METHOD /path - summary. What successful runs on the site called for tasks worded
        like `query` ranks first, as in the agent's prompt."""
        if site in self.connections:
            return [tool_line(tool) for tool in search_tools(self.connections[site].tools, query, k)]
        spec = self._site(site).spec
        learned = self.store.learned_operations(site)
        return apis.operation_lines(spec, apis.search(spec, query, k, learned=learned))

    async def describe_operation(self, site: str, operation: str) -> str:
        """Everything about one operation of `site`: arguments, body schema, responses, whether it writes."""
        try:
            if site in self.connections:
                return tool_help(site, self.connections[site].tool(operation))
            return apis.operation_help(self._site(site).spec, operation)
        except KeyError as exc:
            raise ToolError(exc.args[0]) from None

    def writes(self, site: str, operation: str) -> bool:
        """Whether the operation (or MCP tool) may change something; False when there is no such one."""
        try:
            if site in self.connections:
                return self.connections[site].tool(operation).writes
            return site in self.handles and self.handles[site].spec.operation(operation).writes
        except KeyError:
            return False

    def call_name(self, site: str, operation: str) -> str:
        """The call as a kernel would write it: `api.demo.create_label`, `mcp.notes.add_note`."""
        if site in self.connections:
            try:
                operation = self.connections[site].tool(operation).python_name
            except KeyError:
                pass
            return f"{MCP_CAPABILITY}.{site}.{operation}"
        return f"api.{site}.{operation}"

    async def call_operation(
        self, site: str, operation: str, approval: ApprovedOperation, arguments: dict[str, Any] | None = None
    ) -> Any:
        """Call one operation of `site` with `arguments` (path and query parameters by name, `body` for the
        request body; an MCP server site's tool takes its own arguments), under the server's policy; the call
        is recorded as a run."""
        policy = self._decided_policy(_decision(approval))
        return await anyio.to_thread.run_sync(self._call_operation, site, operation, arguments or {}, policy)

    async def run_task(self, task: str, ctx: Context, sites: list[str] | None = None) -> dict[str, Any]:
        """Do `task` with the hybrid agent on `sites` (default: every served site). Progress is reported
        after each step; the result holds the run id, status and answer."""
        chosen = sites or self.sites
        unknown = sorted(set(chosen) - set(self.sites))
        if unknown:
            raise ToolError(f"{', '.join(unknown)} not served here; served sites: {', '.join(self.sites)}")
        if not self.model_spec:
            raise ToolError(
                "No model configured for run_task: start the server with --model provider:name "
                "or set HYBRID_MODEL."
            )
        loop = asyncio.get_running_loop()

        def on_step(step: StepRecord, _calls: list[CallRecord]) -> None:
            message = step.thought.strip() or f"step {step.index + 1}"
            progress = ctx.report_progress(step.index + 1, self.settings.max_steps, clip(message, 200))
            asyncio.run_coroutine_threadsafe(progress, loop).result()

        confirm = partial(_confirm, ctx, loop) if self.policy_mode == "confirm" else None
        result = await anyio.to_thread.run_sync(self._run_task, task, chosen, confirm, on_step)
        if self._offer_workflows(ctx.mcp_server):  # the run may have verified a new workflow
            await ctx.notify_tools_changed()
        return result

    def recent_runs(self) -> str:
        runs = self.store.list_runs(limit=RECENT_RUNS)
        return json.dumps(
            [
                {
                    "id": r.id,
                    "task": r.task,
                    "status": r.status,
                    "answer": r.answer,
                    "started_at": r.started_at.isoformat(),
                }
                for r in runs
            ]
        )

    def run_record(self, run_id: str) -> str:
        return json.dumps(self.store.run_document(run_id))

    def _site(self, name: str) -> SiteHandle:
        handle = self.handles.get(name)
        if handle is None:
            raise ToolError(
                f"No API site {name!r} is served here; served: {', '.join(self.handles) or 'none'}."
            )
        return handle

    def _decided_policy(self, decision: Decision) -> Policy:
        """The server's policy, with confirm mode's question already answered by `decision`."""
        if self.policy_mode != "confirm":
            return Policy(mode=self.policy_mode)

        def confirm(call: Call) -> bool:
            if not decision.allowed:
                raise PermissionDenied(f"{call.name} was refused: {decision.refusal}")
            return True

        return Policy(mode="confirm", confirm=confirm)

    def _call_operation(self, site: str, operation: str, arguments: dict[str, Any], policy: Policy) -> Any:
        """The operation called through a bridge dispatcher, as from a kernel: policy, redaction, record."""
        capability, _, target = self.call_name(site, operation).partition(".")
        if site in self.connections:
            connection = self.connections[site]
            dispatcher = Dispatcher(policy, secrets=connection.secrets)
            dispatcher.register(capability, mcp_capability([connection]))
        else:
            handle = self._site(site)
            dispatcher = Dispatcher(policy, secrets=handle.secrets)
            dispatcher.register(capability, api_capability([handle]))
        reply = dispatcher.handle(
            {
                "op": "call",
                "capability": capability,
                "path": target.split("."),
                "args": [],
                "kwargs": arguments,
            }
        )
        code = f"{capability}.{target}(**{arguments!r})"
        run = self.store.start_run(
            code,
            sites=[site],
            model=CLIENT_MODEL,
            policy=self.policy_mode,
            source="mcp:call_operation",
            sandbox=self.settings.sandbox,
        )
        error = None if reply["ok"] else f"{reply['error']['type']}: {reply['error']['message']}"
        answer = None if error else json.dumps(reply["value"])[:2000]
        self.store.add_step(
            run.id,
            StepRecord(
                index=0,
                thought="Called by an MCP client.",
                code=code,
                observation=error or answer or "",
                error=error,
                ok=error is None,
            ),
            dispatcher.recorder.take(),
        )
        self.store.end_run(run.id, "error" if error else "finished", answer=answer, error=error)
        if error:
            raise ToolError(reply["error"]["message"])
        return reply["value"]

    def _run_task(
        self, task: str, sites: list[str], confirm: Callable[[Call], bool] | None, on_step: StepCallback
    ) -> dict[str, Any]:
        assert self.model_spec, "run_task refuses to start without a model"
        try:
            model = load_chat_model(
                self.model_spec,
                base_url=self.base_url,
                timeout=self.settings.model_timeout_seconds,
                context_tokens=self.settings.model_context_tokens,
            )
            with open_agent(
                self.settings,
                model=model,
                model_name=self.model_spec,
                sites=sites,
                policy=self.policy_mode,
                confirm=confirm,
                on_step=on_step,
                pool=self.pool(),
            ) as agent:
                result = agent.run(task, source="mcp:run_task")
        except (AgentError, ModelError) as exc:
            raise ToolError(str(exc)) from None
        return {
            "run_id": result.run_id,
            "status": result.status,
            "answer": result.answer,
            "error": result.error,
            "steps": result.steps,
        }

    def _workflow_tool(self, workflow: Workflow) -> Callable[..., Any]:
        """An async function whose signature is the workflow's typed parameters (the SDK builds the tool's
        input schema from it), running the workflow in a fresh isolated kernel."""

        async def ask(ctx: Context) -> Elicit[Approval] | Decision:
            if self.policy_mode != "confirm" or not workflow.writes:
                return ALLOWED
            if not _can_ask(ctx):
                return Decision(allowed=False, refusal=CANNOT_ASK)
            return Elicit(
                f"hybrid wants to run the workflow {workflow.name}, which changes data on "
                f"{workflow.site}. Allow it?",
                Approval,
            )

        async def run_workflow(approval: ElicitationResult[Approval], **arguments: Any) -> dict[str, Any]:
            # The values must fit the workflow as a task naming them would, the rule the fast path binds
            # by: a value it cannot take is refused with the reason, before anything runs.
            reason = misfit(workflow.intent_template, workflow.parameters, arguments)
            if reason is not None:
                raise ToolError(
                    f"{workflow.name} cannot take these values: {reason}. For its tasks: "
                    f"{workflow.intent_template}. Call run_task with the task in words instead."
                )
            policy = self._decided_policy(_decision(approval))
            return await anyio.to_thread.run_sync(self._run_workflow, workflow, arguments, policy)

        parameters = [
            inspect.Parameter(
                p["name"],
                inspect.Parameter.KEYWORD_ONLY,
                annotation=PYTHON_TYPES.get(p.get("type", "str"), str),
            )
            for p in workflow.parameters
        ]
        context = inspect.Parameter(
            "approval",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[ElicitationResult[Approval], Resolve(ask)],
        )
        run_workflow.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [*parameters, context], return_annotation=dict[str, Any]
        )
        run_workflow.__annotations__ = {
            **{p.name: p.annotation for p in [*parameters, context]},
            "return": dict[str, Any],
        }
        return run_workflow

    def _run_workflow(self, workflow: Workflow, arguments: dict[str, Any], policy: Policy) -> dict[str, Any]:
        connection = self.connections.get(workflow.site)
        runtime = AgentRuntime(
            sites=[] if connection else [self._site(workflow.site)],
            store=self.store,
            pool=self.pool(),
            policy=policy,
            mcp_servers=[connection] if connection else [],
        )
        with runtime.fresh_session() as session:
            run_id = run_fast_path(
                self.store,
                session,
                FastPathMatch(workflow, arguments),
                f"MCP call: {workflow.signature} with {arguments}",
                sites=[workflow.site],
                policy=self.policy_mode,
                timeout=self.settings.action_timeout_seconds,
            )
        run = self.store.get_run(run_id)
        if run.status != "finished":
            raise ToolError(f"{workflow.name} failed (run {run_id}): {run.error}")
        return {"run_id": run_id, "answer": run.answer}


def _confirm(ctx: Context, loop: asyncio.AbstractEventLoop, call: Call) -> bool:
    """Ask the client's user about `call` in the middle of a run (`run_task`, whose writes are not known
    before it starts); refuse when the client cannot ask, or cannot be asked mid-call (the newest protocol
    asks only through input-required rounds, before a tool runs)."""
    if not _can_ask(ctx):
        raise PermissionDenied(f"{call.name} was refused: {CANNOT_ASK}")
    arguments = ", ".join([*map(repr, call.args), *(f"{k}={v!r}" for k, v in call.kwargs.items())])
    question = f"hybrid wants to run {call.name}({arguments[:500]}), which changes data. Allow it?"
    try:
        answer = asyncio.run_coroutine_threadsafe(ctx.elicit(question, Approval), loop).result()
    except MCPError as exc:  # e.g. a connection with no channel for requests from the server
        raise PermissionDenied(
            f"{call.name} was refused: it writes, and the MCP client could not be asked ({exc}). "
            "Nothing was changed."
        ) from None
    return answer.action == "accept" and bool(answer.data.approve)


def _workflow_doc(workflow: Workflow) -> str:
    effect = "Changes data." if workflow.writes else "Reads only."
    return (
        f"{workflow.description} (verified workflow on {workflow.site}: {workflow.signature}; {effect} "
        "The result holds the run id and the answer.)"
    )


def serve(hybrid: HybridMcp, port: int | None = None, token: str | None = None) -> None:
    """Serve over stdio, or over streamable HTTP on 127.0.0.1:`port` (at /mcp) when a port is given; with a
    `token`, every HTTP request must carry `Authorization: Bearer TOKEN` (any local process can reach the
    port, and the tools act with the user's credentials)."""
    server = hybrid.build()
    try:
        if port is None:
            server.run("stdio")
        else:
            import uvicorn

            app: Any = server.streamable_http_app(host="127.0.0.1")
            if token is not None:
                app = BearerToken(app, token)
            uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        hybrid.close()


class BearerToken:
    """ASGI middleware: an HTTP request without `Authorization: Bearer TOKEN` is answered 401 and goes no
    further. (The MCP SDK's own auth is OAuth, with an issuer and a token verifier: far more than one
    shared secret for local clients needs.)"""

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not secrets.compare_digest(given, self._expected):
                body = (
                    b"hybrid's MCP server needs the header Authorization: Bearer TOKEN "
                    b"(printed at its start)."
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"www-authenticate", b'Bearer realm="hybrid"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)
