"""WebArena's configs as published: all 812 of test.raw.json load, per-task files and folders of them too,
and a config the harness could not judge is refused with a one-line reason naming what is wrong."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybrid.bench.webarena import WEBARENA_SITES, WebArenaError, fill_hosts, load_webarena
from hybrid.cli import cli
from tests.hybrid.bench.webarena_pages import TEST_RAW


def test_all_812_published_configs_load() -> None:
    suite = load_webarena(TEST_RAW)
    assert len(suite.tasks) == 812 and suite.refused == []
    assert sorted({task.task_id for task in suite.tasks}) == list(range(812))
    assert {site for task in suite.tasks for site in task.sites} == set(WEBARENA_SITES)
    types = Counter(type_ for task in suite.tasks for type_ in task.eval_types)
    assert types == {"string_match": 335, "program_html": 411, "url_match": 205}
    assert all(task.placeholders <= set(task.sites) for task in suite.tasks)
    assert Counter(task.category for task in suite.tasks)["gitlab+reddit"] == 18  # either order


def test_per_task_files_and_a_folder_of_them_load(tmp_path: Path) -> None:
    configs = json.loads(TEST_RAW.read_text())
    for config in configs[:3]:
        (tmp_path / f"{config['task_id']}.json").write_text(json.dumps(config))
    assert [t.task_id for t in load_webarena(tmp_path / "2.json").tasks] == [2]
    assert [t.task_id for t in load_webarena(tmp_path).tasks] == [0, 1, 2]
    with pytest.raises(WebArenaError, match="no such"):
        load_webarena(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"eval_types": ["page_image_query"]}, "eval.eval_types.0: Input should be"),
        (
            {
                "eval_types": ["program_html"],
                "program_html": [
                    {
                        "url": "func:os.system('x')",
                        "locator": "",
                        "required_contents": {"must_include": ["a"]},
                    }
                ],
            },
            "not a call of a helper by name",
        ),
        (
            {
                "eval_types": ["program_html"],
                "program_html": [
                    {
                        "url": "last",
                        "locator": "func:__import__('os')",
                        "required_contents": {"must_include": ["a"]},
                    }
                ],
            },
            "func:__import__ is not one of WebArena's helper functions",
        ),
        (
            {
                "eval_types": ["program_html"],
                "program_html": [
                    {"url": "last", "locator": "window.x", "required_contents": {"must_include": ["a"]}}
                ],
            },
            "unknown locator 'window.x'",
        ),
        ({"url_note": "EXACT"}, "eval.url_note: Input should be 'GOLD in PRED'"),
        (
            {"reference_answers": {"regex": "a+"}},
            "eval.reference_answers.regex: Extra inputs are not permitted",
        ),
    ],
)
def test_a_config_the_harness_cannot_judge_is_refused_in_one_line(
    tmp_path: Path, change: dict, reason: str
) -> None:
    good = json.loads(TEST_RAW.read_text())[0]
    bad = good | {"task_id": 900, "eval": good["eval"] | change}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps([good, bad]))
    suite = load_webarena(path)
    assert [t.task_id for t in suite.tasks] == [0]
    [refusal] = suite.refused
    assert refusal.task_id == 900 and reason in refusal.reason and "\n" not in refusal.reason


def test_placeholders_become_the_users_hosts() -> None:
    hosts = {"shopping": "http://shop:7770", "shopping_admin": "http://shop:7780/admin/"}
    assert fill_hosts("__SHOPPING_ADMIN__/sales_rule", hosts) == "http://shop:7780/admin/sales_rule"
    assert fill_hosts("__SHOPPING__ |OR| __SHOPPING__/x", hosts) == "http://shop:7770 |OR| http://shop:7770/x"
    with pytest.raises(KeyError, match="gitlab"):
        fill_hosts("__GITLAB__/a", hosts)


def test_the_command_takes_the_published_file_and_says_what_a_host_lacks(settings, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(
        '[shopping_admin]\nurl = "http://127.0.0.1:9/admin"\napi_url = "http://127.0.0.1:9/rest"\n'
    )
    result = CliRunner().invoke(
        cli,
        ["bench", str(TEST_RAW), "--tasks", "0", "--hosts", str(hosts)],
        env={"HYBRID_MODEL": "reference"},
    )
    assert result.exit_code == 2
    assert "Site shopping_admin has api_url but no API document: give spec" in result.output
    hosts.write_text('[gitlab]\nurl = "http://127.0.0.1:9"\npasword = "x"\n')
    result = CliRunner().invoke(
        cli,
        ["bench", str(TEST_RAW), "--tasks", "0", "--hosts", str(hosts)],
        env={"HYBRID_MODEL": "reference"},
    )
    assert result.exit_code == 2 and "[gitlab] has unknown key(s) ['pasword']" in result.output
