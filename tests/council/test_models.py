"""council.models: the test system parses; mutated copies show what the spec allows and forbids."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.council.failures import describe_validation_error
from bot.council.models import (
    OBJECT_MODELS,
    AgendaItem,
    Body,
    ListPage,
    Meeting,
    OParlObject,
    Paper,
    System,
    model_for,
)
from tests.council import ROUTES, load

DOCUMENTS = sorted(ROUTES["json"].items())


def _rejection(model: type, data: Any) -> str:
    """The German description of why `data` does not validate as `model`."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return describe_validation_error(info.value)


def _retyped(data: Any, version: str) -> Any:
    """A copy with every `type` URI (embedded objects too) of the given OParl version."""
    if isinstance(data, list):
        return [_retyped(item, version) for item in data]
    if not isinstance(data, dict):
        return data
    result = {key: _retyped(value, version) for key, value in data.items()}
    if isinstance(result.get("type"), str):
        result["type"] = result["type"].replace("/1.1/", f"/{version}/")
    return result


def _required_aliases(model: type[OParlObject]) -> set[str]:
    names = ("id", "type", *model.required, *model.required_since_1_1)
    if model is System:
        names += ("oparl_version", "body")
    return {model.model_fields[name].alias or name for name in names}


def _objects() -> list[dict]:
    """Every object of the test system: single documents and the items of every list."""
    found = []
    for _, file in DOCUMENTS:
        document = load(file)
        found.extend(document.get("data", [document]))
    return found


@pytest.mark.parametrize(("path", "file"), DOCUMENTS)
def test_every_document_of_the_test_system_parses(path: str, file: str) -> None:
    document = load(file)
    if "data" in document:
        items = document["data"]
        model = model_for(items[0]) if items else OParlObject
        page = ListPage[model].model_validate(document)
        assert len(page.data) == len(items)
        if path.endswith("meetings"):
            assert page.links.next == load("meetings-page1.json")["links"]["next"]
    else:
        model = model_for(document)
        assert model is not None, path
        assert model.model_validate(document).id == document["id"]


def test_all_77_objects_validate_with_their_own_model() -> None:
    objects = _objects()
    assert len(objects) == 77
    for data in objects:
        model = model_for(data)
        assert model is not None, data["type"]
        assert model.model_validate(data).type == data["type"]


def test_parsed_fields_are_typed_and_keep_offsets() -> None:
    meeting = Meeting.model_validate(load("objects/meeting-3.json"))
    assert meeting.start is not None and meeting.start.utcoffset() == timedelta(hours=2)
    winter = Meeting.model_validate(load("objects/meeting-1.json"))
    assert winter.start is not None and winter.start.utcoffset() == timedelta(hours=1)
    assert meeting.cancelled is False
    assert [item.order for item in meeting.agenda_item] == [0, 1, 2, 3]
    assert meeting.agenda_item[2].result == "Unverändert beschlossen"
    assert meeting.version == "1.1"

    paper = Paper.model_validate(load("objects/paper-1.json"))
    assert paper.reference == "BV/2027/0012"
    assert [c.authoritative for c in paper.consultation] == [False, True]
    assert paper.main_file is not None and paper.main_file.access_url.endswith(".pdf")

    body = Body.model_validate(load("body.json"))
    assert body.main_organization == load("objects/organization-1.json")["id"]
    assert body.legislative_term is not None and body.legislative_term[0].name


@pytest.mark.parametrize("data", _objects(), ids=lambda d: d["id"].rsplit("/v1/", 1)[-1])
def test_optional_fields_may_be_absent(data: dict) -> None:
    model = model_for(data)
    assert model is not None
    minimal = {key: value for key, value in data.items() if key in _required_aliases(model)}
    parsed = model.model_validate(minimal)
    assert parsed.id == data["id"]


def test_optional_fields_may_be_null() -> None:
    data = load("objects/meeting-5.json") | {"start": None, "organization": None, "name": None}
    meeting = Meeting.model_validate(data)
    assert meeting.start is None and meeting.organization == () and meeting.name is None


def test_pagination_attributes_are_optional_but_the_envelope_is_not() -> None:
    page = load("meetings-page2.json") | {"pagination": {}, "links": {}}
    assert len(ListPage[Meeting].model_validate(page).data) == 4
    assert "links: fehlt" in _rejection(ListPage[Meeting], {"data": [], "pagination": {}})
    assert "data: keine Liste" in _rejection(
        ListPage[Meeting], {"data": {}, "pagination": {}, "links": {}}
    )


def test_extra_fields_are_accepted_and_ignored() -> None:
    data = load("objects/paper-2.json")
    data |= {"vendorField": {"nested": [1, 2]}, "keyword": ["Parken"], "license": "CC0"}
    data["consultation"][0]["x-internal"] = True
    paper = Paper.model_validate(data)
    assert paper.reference == "BV/2027/0031"
    assert not hasattr(paper, "vendorField")


@pytest.mark.parametrize("data", _objects(), ids=lambda d: d["id"].rsplit("/v1/", 1)[-1])
def test_type_uris_of_oparl_1_0_are_accepted(data: dict) -> None:
    old = _retyped(data, "1.0")
    parsed = model_for(old).model_validate(old)  # type: ignore[union-attr]
    assert parsed.version == "1.0"


def test_order_is_required_in_1_1_agenda_items_only() -> None:
    item = load("objects/agendaitem-8.json")
    del item["order"]
    assert "order" in _rejection(AgendaItem, item)
    assert AgendaItem.model_validate(_retyped(item, "1.0")).order is None


def test_deleted_objects_keep_only_id_type_and_created() -> None:
    body = load("body.json")
    deleted = {"id": body["id"], "type": body["type"], "created": body["created"], "deleted": True}
    assert Body.model_validate(deleted).deleted
    alive = {key: value for key, value in deleted.items() if key != "deleted"}
    assert "Pflichtfeld fehlt: name, organization, person" in _rejection(Body, alive)


FORBIDDEN = [
    ("missing id", "objects/meeting-3.json", {"id": None}, "id"),
    ("id not a URL", "objects/meeting-3.json", {"id": "meeting-3"}, "id: keine http(s)-URL"),
    ("id of another scheme", "objects/meeting-3.json", {"id": "ftp://x/m/3"}, "id: keine http"),
    ("missing type", "objects/meeting-3.json", {"type": None}, "type: fehlt"),
    ("type of another object", "objects/meeting-3.json", {"type": "Paper"}, "type: erwartet"),
    ("type of an unknown version", "objects/meeting-3.json", {"type": "1.2"}, "type: erwartet"),
    ("start a number", "objects/meeting-3.json", {"start": 5}, "start: kein Zeitpunkt"),
    ("start a word", "objects/meeting-3.json", {"start": "morgen"}, "start: kein Zeitpunkt"),
    ("start only a date", "objects/meeting-3.json", {"start": "2027-04-15"}, "start: kein"),
    ("start without zone", "objects/meeting-3.json", {"start": "2027-04-15T17:00:00"}, "start"),
    ("start impossible", "objects/meeting-3.json", {"start": "2027-02-30T17:00:00Z"}, "start"),
    ("cancelled a word", "objects/meeting-6.json", {"cancelled": "ja"}, "cancelled: kein Wahr"),
    ("organization not a list", "objects/meeting-3.json", {"organization": "x"}, "organization"),
    ("order a string", "objects/agendaitem-8.json", {"order": "2"}, "order: keine ganze Zahl"),
    ("result a number", "objects/agendaitem-8.json", {"result": 1}, "result: kein Text"),
    ("date with time", "objects/paper-1.json", {"date": "2027-03-10T09:00:00+01:00"}, "date"),
    ("embedded wrong", "objects/paper-1.json", {"consultation": [{"id": 1}]}, "consultation[0]"),
    ("body list missing", "body.json", {"meeting": None}, "Pflichtfeld fehlt: meeting"),
    ("system without body", "system.json", {"body": None}, "body"),
]


@pytest.mark.parametrize(
    ("file", "change", "named"), [case[1:] for case in FORBIDDEN], ids=[c[0] for c in FORBIDDEN]
)
def test_what_the_specification_forbids_is_rejected_naming_the_field(
    file: str, change: dict, named: str
) -> None:
    data = copy.deepcopy(load(file))
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        elif key == "type" and value in ("Paper", "1.2"):
            kind = data["type"].rsplit("/", 1)[-1]
            data["type"] = (
                data["type"].replace(kind, "Paper")
                if value == "Paper"
                else data["type"].replace("/1.1/", "/1.2/")
            )
        else:
            data[key] = value
    model = model_for(load(file))
    assert model is not None
    assert named in _rejection(model, data)


def test_a_wrong_item_in_a_list_is_named_by_its_position() -> None:
    page = load("meetings-page1.json")
    page["data"][2]["start"] = 5
    assert _rejection(ListPage[Meeting], page).startswith("data[2].start: kein Zeitpunkt")


def test_every_model_knows_its_type() -> None:
    for name, model in OBJECT_MODELS.items():
        assert model.oparl_type == name
    assert model_for({"type": "https://schema.oparl.org/1.1/Person"}) is None
    assert model_for({"type": "https://schema.oparl.org/0.9/Meeting"}) is None
