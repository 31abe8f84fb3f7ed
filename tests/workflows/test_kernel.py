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
    ]
    installed.settle(result)
    [use] = store.uses_of(shout.id)
    assert (use.arguments, use.outcome, use.step_index, use.via) == ({"word": "hey"}, "success", 4, "kernel")


def test_a_failure_is_raised_to_the_caller_and_recorded(session, store, shout) -> None:
    installed = install_workflows(session, store, [shout])
    result = session.execute("wf.shout('boom')")
    installed.settle(result)
    assert result.error is not None and (result.error.name, result.error.message) == (
        "ValueError",
        "no booms",
    )
    [use] = store.uses_of(shout.id)
    # It raised before any call: the host saw nothing of it to judge, so it does not count against it.
    assert (use.outcome, use.error) == ("no-calls", "ValueError: no booms, before any of its calls")
    assert store.get_workflow("shout").consecutive_failures == 0
    # The model sees what failed, where and with what, and the workflow's source, to do the task another way.
    assert (
        "wf.shout failed with ValueError: no booms at line 5 of the workflow: "
        '`raise ValueError("no booms")`, '
        "called as wf.shout('boom')"
    ) in result.error.traceback
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
    assert forged.error is not None and "no workflow '_outcome'" in forged.error.message
    started = session.execute(bridge_call(["shout"], ["x"]))  # a use begun, its program never run
    assert started.ok
    installed.settle(started)
    installed.close()
    [use] = store.uses_of(shout.id)
    assert use.outcome == "no-calls"
    workflow = store.get_workflow("shout")
    assert (workflow.success_count, workflow.failure_count) == (0, 0)


def test_the_closure_attack_cannot_touch_memory(session, store, shout) -> None:
    """Kernel code reaching into `wf.<name>`'s closure finds only the bridge stub of `wf.<name>`: whatever it
    calls there, it cannot deprecate a verified workflow nor verify a candidate."""
    store.set_status(shout.id, "verified")
    installed = install_workflows(session, store, [shout])
    attack = session.execute(
        "cells = {c.cell_contents for c in wf.shout.__wrapped__.__closure__ or ()} | "
        "{c.cell_contents for c in type(wf).__dict__['shout'].__func__.__closure__}\n"
        "hooks = [f for f in cells if callable(f)]\n"
        "for hook in hooks:\n"
        "    for args in ((1, False, 'x'), ('boom',), (2, False)):\n"
        "        for _ in range(3):\n"
        "            try: hook(*args)\n"
        "            except Exception: pass\n"
        "raise RuntimeError('after the attack')"
    )
    installed.settle(attack)
    installed.close()
    workflow = store.get_workflow("shout")
    assert (workflow.status, workflow.failure_count, workflow.consecutive_failures) == ("verified", 0, 0)
    assert {use.outcome for use in store.uses_of(shout.id)} <= {"no-calls"}


def test_restart_and_re_registration_are_survived(session, store, shout) -> None:
    installed = install_workflows(session, store, [shout])
    session.register("more", HostFunction(upper, writes=False))  # puts the bare bridge stub back as `wf`
    first = session.execute("wf.shout('a')")
    assert first.result == "'A!'"
    installed.settle(first)
    session.restart()
    lost = session.execute("wf.shout('b')")
    assert lost.error is not None and "it was restarted" in lost.error.message
    installed.settle(lost)
    installed.ensure()
    third = session.execute("wf.shout('c')")
    assert third.result == "'C!'"
    installed.settle(third)
    assert [u.outcome for u in store.uses_of(shout.id)] == ["success", "success"]
