"""Config mistakes are named with file, key and fix, never a traceback (issue 13, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.experiments.presets import PresetError
from attractor_tui.experiments.scenarios import list_scenarios, load_scenario
from attractor_tui.experiments.toolpacks import list_tool_packs, load_tool_pack
from attractor_tui.ui.user_config import read_user_config, save_user_setting
from tests.support.hostile_files import run_cli
from tests.support.ui import make_app


def user_dir(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / "xdg-config" / "attractor-tui" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


TOOL = '[[tools]]\nname = "{name}"\ndescription = "d"\n'


@pytest.mark.parametrize("kind", ["scenarios", "toolpacks"])
def test_a_non_utf8_preset_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    path = user_dir(tmp_path, kind) / "latin.toml"
    path.write_bytes('description = "caf\u00e9"\n'.encode("latin-1"))
    load = load_scenario if kind == "scenarios" else load_tool_pack
    with pytest.raises(PresetError) as info:
        load("latin")
    assert str(info.value) == f"{path}: not UTF-8 text (byte 18); save it as UTF-8"
    listed = (list_scenarios if kind == "scenarios" else list_tool_packs)()
    assert listed["latin"] == f"(broken: {info.value})"


def test_a_scenario_naming_a_missing_pack_is_listed_as_broken(tmp_path: Path) -> None:
    path = user_dir(tmp_path, "scenarios") / "mine.toml"
    path.write_text('description = "mine"\ntool_pack = "nope"\n')
    with pytest.raises(PresetError) as info:
        load_scenario("mine")
    message = str(info.value)
    assert message.startswith(f"{path}: key 'tool_pack' = 'nope' cannot be used: "
                              "no toolpack named 'nope'")
    assert list_scenarios()["mine"] == f"(broken: {message})"
    listing = run_cli(["scenarios"])
    assert listing.code == 0 and "(broken:" in listing.out and "'nope'" in listing.out


def test_a_scenario_whose_pack_is_broken_names_both_files(tmp_path: Path) -> None:
    pack = user_dir(tmp_path, "toolpacks") / "bad.toml"
    pack.write_text(TOOL.format(name="t") + 'parameters = { type = "objekt" }\n')
    scenario = user_dir(tmp_path, "scenarios") / "uses-bad.toml"
    scenario.write_text('tool_pack = "bad"\n')
    with pytest.raises(PresetError) as info:
        load_scenario("uses-bad")
    assert str(info.value).startswith(f"{scenario}: key 'tool_pack' = 'bad' cannot be used: "
                                      f"{pack}: key 'tools.0.parameters.type'")


@pytest.mark.parametrize("parameters,message", [
    ('{ type = "objekt" }',
     "key 'tools.0.parameters.type' has value 'objekt'; use one of the JSON Schema types "
     "array, boolean, integer, null, number, object, string"),
    ('{ type = "object", properties = { reason = { type = "strin" } } }',
     "key 'tools.0.parameters.properties.reason.type' has value 'strin'; use one of"),
    ('{ type = "object", required = "reason" }',
     "key 'tools.0.parameters.required' is not valid JSON Schema ('reason' is not of type "
     "'array'); fix it there"),
    ('{ type = "string" }', "key 'tools.0.parameters.type' must be \"object\""),
])
def test_an_invalid_parameter_schema_is_rejected(tmp_path: Path, parameters: str,
                                                  message: str) -> None:
    path = tmp_path / "pack.toml"
    path.write_text(TOOL.format(name="t") + f"parameters = {parameters}\n")
    with pytest.raises(PresetError) as info:
        load_tool_pack(str(path))
    assert str(info.value).startswith(f"{path}: {message}")


def test_duplicate_tool_names_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "pack.toml"
    path.write_text(TOOL.format(name="a") + TOOL.format(name="b") + TOOL.format(name="a"))
    with pytest.raises(PresetError) as info:
        load_tool_pack(str(path))
    assert str(info.value) == (
        f"{path}: key 'tools.2.name': a second tool named 'a' (tools.0 has that name); "
        "tool names must be unique in a pack: rename or remove one")


def test_valid_schemas_still_load(tmp_path: Path) -> None:
    path = tmp_path / "pack.toml"
    path.write_text(TOOL.format(name="a") + TOOL.format(name="b")
                    + 'parameters = { type = "object", properties = { n = { type = '
                      '["integer", "null"] } } }\n' + TOOL.format(name="c") + "parameters = {}\n")
    assert [t.name for t in load_tool_pack(str(path)).tools] == ["a", "b", "c"]
    assert all(not d.startswith("(broken") for d in list_tool_packs().values())
    assert all(not d.startswith("(broken") for d in list_scenarios().values())


# ------------------------------------------------------------------ config.toml

KEPT = '# my settings\ntheme = "old"  # picked in May\n\n[editor]\nwrap = true  # keep this\n'


def test_saving_the_theme_keeps_comments_and_other_lines(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(KEPT)
    assert save_user_setting("theme", "attractor-light", path) is None
    assert path.read_text() == KEPT.replace('"old"', '"attractor-light"')
    assert read_user_config(path) == ({"theme": "attractor-light", "editor": {"wrap": True}},
                                      None)


def test_a_broken_config_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    broken = 'theme = "old"\nwrap = = true\n'
    path.write_text(broken)
    settings, problem = read_user_config(path)
    assert settings == {} and problem is not None
    assert problem.startswith(f"{path}: not valid TOML (") and "line 2" in problem
    saved = save_user_setting("theme", "attractor-light", path)
    assert saved is not None and "not changed" in saved
    assert path.read_text() == broken


async def test_the_app_warns_once_about_a_broken_config(tmp_path: Path) -> None:
    folder = tmp_path / "xdg-config" / "attractor-tui"
    folder.mkdir(parents=True)
    broken = 'theme = "attractor-light"\n[oops\n'
    (folder / "config.toml").write_text(broken)
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        app.theme = "attractor-high-contrast"  # would rewrite the file before the fix
        await pilot.pause()
        app.theme = "attractor-dark"
        await pilot.pause()
        warnings = [n.message for n in app._notifications  # noqa: SLF001
                    if "config.toml" in n.message]
    assert len(warnings) == 1, warnings
    assert "not valid TOML" in warnings[0] and "not saved" in warnings[0]
    assert (folder / "config.toml").read_text() == broken
