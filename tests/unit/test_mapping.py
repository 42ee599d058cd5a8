"""The mapping table: the shipped files load, and a bad file stops the start with a message
naming the file, the action and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.mapping import MappingError, MappingTable, load

MAPPED = [
    "async", "ban", "cache_lvl", "devmode", "fpurge_ts", "ipv46", "nul", "rec_delete",
    "rec_edit", "rec_load_all", "rec_new", "sec_lvl", "wl", "zone_check", "zone_file_purge",
    "zone_load_multi", "zone_settings",
]
RETIRED = [
    "DIUP", "ip_lkup", "minify", "mirage2", "pre_purge", "rec_del", "rec_set", "stats",
    "zone_grab", "zone_ips",
]

VALID = """
[zone_ping]
summary = "A test action."
aliases = ["zping"]
echo = true
zone = true
params.v = { kind = "choice", required = true, values = { "1" = "on", "0" = "off" } }
steps = [
    { call = "PATCH /zones/{zone.id}/settings/ping", body = { value = "$v" }, save = "setting" },
]
response = { value = "$setting.value", ts = "$now", zone = { obj = "$zone|v1_zone" } }
"""


def write(folder: Path, text: str, name: str = "extra.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(folder: Path) -> str:
    with pytest.raises(MappingError) as caught:
        load([folder])
    return str(caught.value)


# --- the shipped table --------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> MappingTable:
    return load()


def test_shipped_table_maps_the_v1_actions(shipped: MappingTable) -> None:
    assert shipped.mapped == MAPPED


def test_shipped_table_retires_the_rest(shipped: MappingTable) -> None:
    assert sorted(n for n, e in shipped.actions.items() if e.gone is not None) == RETIRED


def test_shipped_alias_ips_lookup_finds_ip_lkup(shipped: MappingTable) -> None:
    entry = shipped.find("ips_lookup")
    assert entry is not None and entry.name == "ip_lkup"


def test_shipped_table_unknown_action_is_none(shipped: MappingTable) -> None:
    assert shipped.find("rec_load_some") is None


def test_shipped_entries_declare_echo_and_zone(shipped: MappingTable) -> None:
    echo = sorted(n for n, e in shipped.actions.items() if e.echo)
    assert echo == ["rec_delete", "rec_edit", "rec_load_all", "rec_new", "zone_file_purge",
                    "zone_load_multi", "zone_settings"]
    assert not shipped.actions["zone_check"].zone
    assert shipped.actions["rec_load_all"].zone


def test_shipped_rec_edit_id_param_reports_invalid_record(shipped: MappingTable) -> None:
    spec = shipped.actions["rec_edit"].params["id"]
    assert (spec.kind, spec.required, spec.error) == ("text", True, "record")


# --- extra folders ----------------------------------------------------------------------


def test_extra_action_loads_with_its_alias(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    table = load([tmp_path])
    entry = table.find("zping")
    assert entry is not None
    assert (entry.name, entry.source, entry.echo, entry.zone) == (
        "zone_ping", str(path), True, True
    )
    assert [step.use for step in entry.steps] == ["call"]
    assert entry.steps[0].args["method"] == "PATCH"
    assert entry.steps[0].args["path"] == "/zones/{zone.id}/settings/ping"
    assert "zone_ping" in table.mapped


def test_override_file_replaces_an_action(tmp_path: Path) -> None:
    path = write(tmp_path, """
[zone_check]
summary = "Overridden."
params.zones = { kind = "names", required = true }
response = { zones = "$zones" }
""")
    table = load([tmp_path])
    entry = table.actions["zone_check"]
    assert (entry.summary, entry.source, entry.steps) == ("Overridden.", str(path), ())
    assert table.actions["zone_load_multi"].source.endswith("zones.toml")


def test_override_can_retire_a_mapped_action(tmp_path: Path) -> None:
    write(tmp_path, '[async]\nsummary = "Rocket Loader."\ngone = "Not here."\n')
    table = load([tmp_path])
    assert table.actions["async"].gone == "Not here."
    assert "async" not in table.mapped


def test_later_folder_wins_over_earlier(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    write(first, '[stats]\nsummary = "one"\ngone = "first"\n')
    write(second, '[stats]\nsummary = "two"\ngone = "second"\n')
    assert load([first, second]).actions["stats"].gone == "second"


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not a folder of mapping files"):
        load([tmp_path / "absent"])


# --- bad files ------------------------------------------------------------------------------


def test_unknown_key_names_file_action_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[zone_ping]\nsummary = "x"\nrespnse = { a = 1 }\n')
    assert load_error(tmp_path) == f"{path}: action zone_ping: unknown key respnse"


def test_unknown_key_in_a_gone_entry(tmp_path: Path) -> None:
    path = write(tmp_path, '[old]\nsummary = "x"\ngone = "y"\nparams.v = { kind = "text" }\n')
    assert load_error(tmp_path) == f"{path}: action old: unknown key params"


def test_unknown_param_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.v = { kind = "text", requird = true }\n')
    assert load_error(tmp_path) == f"{path}: action p: key params.v: unknown key requird"


def test_unknown_step(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nsteps = [{ use = "list_zones", save = "z" }, '
                           '{ use = "teleport" }]\n')
    message = load_error(tmp_path)
    assert message.startswith(f"{path}: action p: key steps[1]: use 'teleport' is not a known "
                              "step (access_rule, ")


def test_unknown_step_argument(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nsteps = [{ use = "list_zones", save = "z", '
                           'page = 2 }]\n')
    assert load_error(tmp_path) == f"{path}: action p: key steps[0]: unknown key page"


def test_step_missing_required_argument(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nsteps = [{ use = "list_zones" }]\n')
    assert load_error(tmp_path) == f"{path}: action p: key steps[0]: step list_zones needs save"


def test_step_needing_zone_in_an_action_without_zone(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nsteps = [{ use = "list_records", save = "r" }]\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key steps[0]: step list_records needs 'zone' before it"
    )


def test_unknown_kind(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.v = { kind = "colour" }\n')
    assert load_error(tmp_path).startswith(
        f"{path}: action p: key params.v: kind 'colour' is not one of address, choice, "
    )


def test_switch_without_on_and_off(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.v = { kind = "switch", values = '
                           '{ yes = 1 } }\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key params.v: a switch needs values.on and values.off"
    )


def test_choice_without_values(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.v = { kind = "choice" }\n')
    assert load_error(tmp_path) == f"{path}: action p: key params.v: kind choice needs values"


def test_default_that_is_not_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.o = { kind = "offset", default = 0 }\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key params.o: default must be a string, as v1 values are"
    )


def test_reference_to_unknown_value_in_response(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.v = { kind = "text" }\n'
                           'response = { a = "$v", b = { c = "$vv" } }\n')
    assert load_error(tmp_path) == f"{path}: action p: key response: refers to vv, not known here"


def test_reference_to_zone_without_zone_flag(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nresponse = { obj = "$zone|v1_zone" }\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key response: refers to zone, not known here"
    )


def test_reference_to_a_value_saved_later(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nzone = true\nsteps = [\n'
                           '  { call = "GET /zones/{zone.id}/a", query = { x = "$b" } },\n'
                           '  { call = "GET /zones/{zone.id}/b", save = "b" },\n]\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key steps[0].query: refers to b, not known here"
    )


def test_unknown_filter(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nparams.v = { kind = "text" }\n'
                           'response = { a = "$v|shout" }\n')
    assert load_error(tmp_path) == f"{path}: action p: key response: unknown filter shout"


@pytest.mark.parametrize("call", ["FETCH /zones", "GET zones", "GET", "get /zones", "/zones"])
def test_bad_call_line(tmp_path: Path, call: str) -> None:
    path = write(tmp_path, f'[p]\nsummary = "x"\nsteps = [{{ call = "{call}" }}]\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key steps[0]: call must read 'METHOD /path', got {call!r}"
    )


def test_call_path_placeholder_must_be_known(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nsteps = [{ call = "GET /zones/{zone.id}" }]\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key steps[0]: path names zone.id, which is not known here"
    )


def test_call_bad_target(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\nsteps = [{ call = "GET /zones", '
                           'target = "account" }]\n')
    assert load_error(tmp_path) == (
        f"{path}: action p: key steps[0]: target must be zone, record or input"
    )


def test_missing_summary(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\necho = true\n')
    assert load_error(tmp_path) == f"{path}: action p: key summary is missing"


def test_wrong_type_of_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\necho = "yes"\n')
    assert load_error(tmp_path) == f"{path}: action p: key echo must be a bool"


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[p\nsummary = "x"\n')
    assert load_error(tmp_path).startswith(f"{path}: not valid TOML: ")


def test_non_utf8_file_is_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[p]\nsummary = "caf\xe9"\n'.encode("latin-1"))
    assert load_error(tmp_path).startswith(f"{path}: not valid TOML: ")


def test_alias_clash_with_another_alias(tmp_path: Path) -> None:
    path = write(tmp_path, '[lookup]\nsummary = "x"\naliases = ["ips_lookup"]\ngone = "y"\n')
    assert load_error(tmp_path) == f"{path}: action lookup: alias ips_lookup is taken"


def test_alias_clash_with_an_action_name(tmp_path: Path) -> None:
    path = write(tmp_path, '[lookup]\nsummary = "x"\naliases = ["zone_check"]\ngone = "y"\n')
    assert load_error(tmp_path) == f"{path}: action lookup: alias zone_check is taken"


def test_aliases_must_be_names(tmp_path: Path) -> None:
    path = write(tmp_path, '[p]\nsummary = "x"\naliases = [1]\ngone = "y"\n')
    assert load_error(tmp_path) == f"{path}: action p: key aliases: must be a list of names"


def test_only_toml_files_are_read(tmp_path: Path) -> None:
    write(tmp_path, "this is not toml [[[", name="notes.txt")
    assert load([tmp_path]).mapped == MAPPED
