"""`wf.<name>` in the kernel: defined there from the stored source, entered through the bridge, recorded."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

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


STAMP = '''
def stamp(word: str):
    """Save it."""
    if word == "boom":
        raise ValueError("no booms")
    return api.t.save(text=word)
'''


def upper(text: str) -> str:
    return text.upper()


class Saved(list[str]):
    """What `api.t.save` wrote, on the host."""

    def save(self, text: str) -> str:
        self.append(text)
        return f"saved {text}"


@pytest.fixture
def saved() -> Saved:
    return Saved()


def api_t(saved: Saved) -> Namespace:
    return Namespace(
        {"t": {"upper": HostFunction(upper, writes=False), "save": HostFunction(saved.save, writes=True)}}
    )


@pytest.fixture
def session(kernel_pool: KernelPool, saved: Saved) -> Iterator[KernelSession]:
    with kernel_pool.acquire() as session:
        session.register("api", api_t(saved))
        yield session


@pytest.fixture
def clean(kernel_pool: KernelPool, saved: Saved) -> Callable[[], AbstractContextManager[KernelSession]]:
    """Fresh kernels with the same `api`, as the runtime's `fresh_session` makes them."""

    @contextmanager
    def open_one() -> Iterator[KernelSession]:
        with kernel_pool.acquire() as fresh:
            fresh.register("api", api_t(saved))
            yield fresh

    return open_one


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


def test_a_failure_is_raised_to_the_caller_and_recorded(session, store, shout, clean) -> None:
    installed = install_workflows(session, store, [shout], confirm=clean)
    result = session.execute("wf.shout('boom')")
    installed.settle(result)
    assert result.error is not None and (result.error.name, result.error.message) == (
        "ValueError",
        "no booms",
    )
    [use] = store.uses_of(shout.id)
    # It raised before any call; a clean re-run with the same argument raised too: it counts against it.
    assert use.outcome == "failure"
    assert use.error.startswith("ValueError: no booms, before any of its calls; confirmed by a re-run")
    assert store.get_workflow("shout").consecutive_failures == 1
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


def forged_failure(name: str, word: str, calls: str = "") -> str:
    """Code the model could write: begin a use of `wf.<name>` through the bridge, make the workflow's own
    calls (or none), and raise what the wrapper raises when the workflow fails."""
    return (
        f"{bridge_call([name], [word])}\n{calls}"
        f'raise ValueError("no booms\\nwf.{name} failed with ValueError: no booms, called as '
        f'wf.{name}({word!r}).")'
    )


def test_failures_forged_by_the_models_code_do_not_count(session, store, shout, clean) -> None:
    store.set_status(shout.id, "verified")
    installed = install_workflows(session, store, [shout], confirm=clean)
    attacks = [
        forged_failure("shout", "x", "api.t.upper(text='x')\n"),  # its own call, then a raise
        forged_failure("shout", "y"),  # a raise before any of its calls
        forged_failure("shout", "z", "api.t.upper(text='other')\n"),  # calls that ignore its argument
    ]
    for _ in range(2):
        for attack in attacks:
            result = session.execute(attack)
            assert result.error is not None
            installed.settle(result)
    uses = store.uses_of(shout.id)
    assert [u.outcome for u in uses] == ["not-reproduced"] * 6
    assert "a re-run with the same arguments in a clean kernel succeeded" in (uses[0].error or "")
    workflow = store.get_workflow("shout")
    assert (workflow.status, workflow.failure_count, workflow.consecutive_failures) == ("verified", 0, 0)
    # Its real failures still count, confirmed the same way.
    installed.settle(session.execute("wf.shout('boom')"))
    assert store.get_workflow("shout").consecutive_failures == 1


@pytest.fixture
def stamp(store: WorkflowStore) -> Workflow:
    return store.add_workflow(
        Workflow(
            name="stamp",
            site="t",
            body=STAMP,
            fingerprint="w",
            description="Save it.",
            parameters=[{"name": "word", "type": "str"}],
            writes=True,
            status="verified",
        )
    )


def test_a_failure_of_a_workflow_that_writes_is_confirmed_without_writing(
    session, store, stamp, clean, saved
) -> None:
    installed = install_workflows(session, store, [stamp], confirm=clean)
    forged = session.execute(forged_failure("stamp", "x", "api.t.save(text='x')\n"))
    installed.settle(forged)
    # The re-run reached its write, which it may not make: the failure cannot be confirmed.
    assert saved == ["x"]  # the model's own write; the re-run wrote nothing
    real = session.execute("wf.stamp('boom')")  # fails before its write: the re-run reproduces it
    installed.settle(real)
    assert saved == ["x"]
    uses = store.uses_of(stamp.id)
    assert [u.outcome for u in uses] == ["unconfirmed", "failure"]
    assert "reached its first write" in (uses[0].error or "")
    assert store.get_workflow("stamp").consecutive_failures == 1


def test_without_a_clean_kernel_a_failure_in_the_models_code_is_unconfirmed(session, store, shout) -> None:
    @contextmanager
    def closed_pool() -> Iterator[KernelSession]:
        raise RuntimeError("this kernel pool is closed")
        yield  # a generator, as a session factory is

    for confirm in (None, closed_pool):
        installed = install_workflows(session, store, [shout], confirm=confirm)
        installed.settle(session.execute("wf.shout('boom')"))
    uses = store.uses_of(shout.id)
    assert [u.outcome for u in uses] == ["unconfirmed"] * 2
    assert "the re-run could not start (this kernel pool is closed)" in (uses[1].error or "")
    assert store.get_workflow("shout").consecutive_failures == 0
