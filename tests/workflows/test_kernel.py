"""`wf.<name>` in the kernel: defined there from the stored source, entered through the bridge, recorded."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest

from sandbox import HostFunction, KernelPool, KernelSession, Namespace
from workflows.kernel import install_workflows
from workflows.memory import Workflow, WorkflowStore

pytestmark = pytest.mark.kernel

SHOUT = '''
def shout(word: str):
    """Say it loud."""
    if word == "boom":
        raise ValueError("no booms")
    return api.t.upper(text=word) + "!"
'''


def upper(text: str) -> str:
    return text.upper()


@pytest.fixture
def session(kernel_pool: KernelPool) -> Iterator[KernelSession]:
    with kernel_pool.acquire() as session:
        session.register("api", Namespace({"t": {"upper": HostFunction(upper, writes=False)}}))
        yield session


@pytest.fixture
def shout(store: WorkflowStore) -> Workflow:
    return store.add_workflow(
        Workflow(
            name="shout",
            site="t",
            body=SHOUT,
            fingerprint="s",
            description="Say it loud.",
            parameters=[{"name": "word", "type": "str"}],
        )
    )


def user_names(session: KernelSession) -> set[str]:
    return set(
        ast.literal_eval(session.execute("sorted(k for k in dir() if not k.startswith('_'))").result or "[]")
    )


def test_a_call_runs_in_the_kernel_and_is_recorded(session, store, shout) -> None:
    before = user_names(session)
    installed = install_workflows(session, store, [shout], run_id=None)
    assert user_names(session) - before == {"wf"}  # the installation leaves nothing else behind
    installed.step_index = 4
    result = session.execute("print(wf.shout('hey')); help(wf.shout)")
    assert result.ok and result.stdout.startswith("HEY!") and "Say it loud." in result.stdout
    assert [(c.capability, c.target, c.args) for c in result.calls] == [
        ("wf", "shout", ["hey"]),
        ("api", "t.upper", []),
        ("wf", "_outcome", [1, True, None]),
    ]
    [use] = store.uses_of(shout.id)
    assert (use.arguments, use.outcome, use.step_index, use.via) == ({"word": "hey"}, "success", 4, "kernel")


def test_a_failure_is_raised_to_the_caller_and_counted(session, store, shout) -> None:
    install_workflows(session, store, [shout])
    result = session.execute("wf.shout('boom')")
    assert result.error is not None and (result.error.name, result.error.message) == (
        "ValueError",
        "no booms",
    )
    [use] = store.uses_of(shout.id)
    assert (use.outcome, use.error) == ("failure", "ValueError: no booms")
    assert store.get_workflow("shout").consecutive_failures == 1
    # The model sees what failed and the workflow's source, so that it can do the task another way.
    assert "wf.shout failed: the site may have changed" in result.error.traceback
    assert 'raise ValueError("no booms")' in result.error.traceback


def bridge_call(path: list[str], args: list) -> str:
    """Code that calls the host's `wf` capability directly, as hostile code in the kernel could."""
    return (
        f"__import__('sys').modules['_hybrid_bridge']._connection.request("
        f"{{'op': 'call', 'capability': 'wf', 'path': {path!r}, 'args': {args!r}, 'kwargs': {{}}}})"
    )


def test_uses_cannot_be_forged_and_none_is_left_open(session, store, shout) -> None:
    installed = install_workflows(session, store, [shout])
    forged = session.execute(bridge_call(["_outcome"], [1, True]))
    assert forged.error is not None and "not open in this session" in forged.error.message
    started = session.execute(bridge_call(["shout"], ["x"]))  # a use begun, its program never run
    assert started.ok and started.result == "1"
    installed.close()
    [use] = store.uses_of(shout.id)
    assert (use.outcome, use.error) == ("failure", "did not finish: interrupted, or the kernel was lost")
    assert store.get_workflow("shout").success_count == 0


def test_restart_and_re_registration_are_survived(session, store, shout) -> None:
    installed = install_workflows(session, store, [shout])
    session.register("more", HostFunction(upper, writes=False))  # puts the bare bridge stub back as `wf`
    assert session.execute("wf.shout('a')").result == "'A!'"
    session.restart()
    lost = session.execute("wf.shout('b')")
    assert lost.error is not None and "it was restarted" in lost.error.message
    installed.ensure()
    assert session.execute("wf.shout('c')").result == "'C!'"
    assert [u.outcome for u in store.uses_of(shout.id)] == ["success", "success"]
