"""Typed models of the OParl objects the bot reads, validated as the specification says.

Field names and rules follow the OParl 1.1 JSON schemas (https://schema.oparl.org/1.1/),
which stay compatible with 1.0; what they leave open stays open here:

- Both `type` URIs are accepted (`https://schema.oparl.org/1.0/Meeting` and `/1.1/Meeting`),
  any other value, or the URI of another object type, is rejected.
- Extra fields are ignored (servers may add their own); optional fields may be absent, and
  `null` is read as absent (the specification discourages it but does not forbid it).
- Forbidden: a missing `id`/`type` or other required field, a value of the wrong JSON type
  (`"cancelled": "ja"`, `"order": "1"`), a `date-time` without time zone or not in RFC 3339
  form, a `date` that is not `yyyy-mm-dd`, a URL that is not http(s), a list page whose
  `data` is not a list.
- Deleted objects (`"deleted": true`) keep only `id`, `type` and `created`; required fields
  beyond `id` and `type` are checked only for objects that are not deleted.

Python attribute names are snake_case; the JSON names are their camelCase aliases
(`main_organization` ↔ `mainOrganization`). Times stay timezone-aware with the offset the
server sent; converting them for display is the caller's business.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

OPARL_VERSIONS = ("1.0", "1.1")
SCHEMA_BASE = "https://schema.oparl.org/"

# RFC 3339 date-time with an offset (the JSON schemas say `format: date-time`); the
# specification's own examples use the `yyyy-mm-ddThh:mm:ss±hh:mm` subset of it.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_time(value: object) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value.upper()):
        raise PydanticCustomError("oparl_date_time", "not a date-time with a time zone")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise PydanticCustomError(
            "oparl_bad_date_time", "no such moment", {"value": value}
        ) from None


def _date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise PydanticCustomError("oparl_date", "not a date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("oparl_bad_date", "no such day", {"value": value}) from None


def _url(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("oparl_url_type", "not a URL")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise PydanticCustomError("oparl_url", "not an http(s) URL", {"value": value[:120]})
    return value


def _none_as_empty(value: object) -> object:
    return () if value is None else value


DateTime = Annotated[datetime, PlainValidator(_date_time)]
Date = Annotated[date, PlainValidator(_date)]
Url = Annotated[str, PlainValidator(_url)]
UrlList = Annotated[tuple[Url, ...], BeforeValidator(_none_as_empty)]


def type_uri(name: str, version: str = "1.1") -> str:
    """The `type` URI of an object type, e.g. `https://schema.oparl.org/1.1/Meeting`."""
    return f"{SCHEMA_BASE}{version}/{name}"


class OParlModel(BaseModel):
    """Common configuration: immutable, camelCase aliases, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel)


class OParlObject(OParlModel):
    """What every OParl object has: `id`, `type` and the common optional fields."""

    oparl_type: ClassVar[str] = ""
    # Required by the schema besides id and type, unless the object is deleted.
    required: ClassVar[tuple[str, ...]] = ()
    # Required only in objects of the 1.1 type (fields 1.0 did not have yet).
    required_since_1_1: ClassVar[tuple[str, ...]] = ()

    id: Url
    type: StrictStr
    created: DateTime | None = None
    modified: DateTime | None = None
    deleted: StrictBool = False
    web: Url | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in {type_uri(cls.oparl_type, v) for v in OPARL_VERSIONS}:
            raise PydanticCustomError(
                "oparl_type",
                "another type",
                {"expected": type_uri(cls.oparl_type), "value": value[:120]},
            )
        return value

    @model_validator(mode="after")
    def _required_fields(self) -> OParlObject:
        if self.deleted:
            return self
        names = self.required + (self.required_since_1_1 if self.version == "1.1" else ())
        missing = [type(self).model_fields[n].alias or n for n in names if getattr(self, n) is None]
        if missing:
            raise PydanticCustomError("oparl_required", "required", {"fields": missing})
        return self

    @property
    def version(self) -> str:
        """The OParl version of this object's `type` URI ("1.0" or "1.1")."""
        return self.type.removeprefix(SCHEMA_BASE).split("/", 1)[0]


class LegislativeTerm(OParlObject):
    oparl_type: ClassVar[str] = "LegislativeTerm"

    body: Url | None = None
    name: StrictStr | None = None
    start_date: Date | None = None
    end_date: Date | None = None


class Location(OParlObject):
    oparl_type: ClassVar[str] = "Location"

    description: StrictStr | None = None
    street_address: StrictStr | None = None
    room: StrictStr | None = None
    postal_code: StrictStr | None = None
    locality: StrictStr | None = None


class File(OParlObject):
    oparl_type: ClassVar[str] = "File"
    required: ClassVar[tuple[str, ...]] = ("access_url",)

    name: StrictStr | None = None
    file_name: StrictStr | None = None
    mime_type: StrictStr | None = None
    date: Date | None = None
    size: StrictInt | None = None
    access_url: Url | None = None
    download_url: Url | None = None


class System(OParlObject):
    """The entry point: its `body` is the URL of the list of bodies."""

    oparl_type: ClassVar[str] = "System"

    oparl_version: StrictStr
    body: Url
    other_oparl_versions: UrlList = ()
    name: StrictStr | None = None
    contact_email: StrictStr | None = None
    contact_name: StrictStr | None = None
    website: Url | None = None


class Body(OParlObject):
    """A Körperschaft (the city); its lists are URLs of external, paginated lists."""

    oparl_type: ClassVar[str] = "Body"
    required: ClassVar[tuple[str, ...]] = (
        "name",
        "organization",
        "person",
        "meeting",
        "paper",
        "legislative_term",
    )

    system: Url | None = None
    name: StrictStr | None = None
    short_name: StrictStr | None = None
    website: Url | None = None
    classification: StrictStr | None = None
    main_organization: Url | None = None
    organization: Url | None = None
    person: Url | None = None
    meeting: Url | None = None
    paper: Url | None = None
    agenda_item: Url | None = None
    consultation: Url | None = None
    file: Url | None = None
    legislative_term: tuple[LegislativeTerm, ...] | None = None
    location: Location | None = None


class Organization(OParlObject):
    """A Gremium, Fraktion …; the council has `classification` "Parlament"."""

    oparl_type: ClassVar[str] = "Organization"

    body: Url | None = None
    name: StrictStr | None = None
    short_name: StrictStr | None = None
    organization_type: StrictStr | None = None
    classification: StrictStr | None = None
    sub_organization_of: Url | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    # URL of an external list of this organization's meetings (optional in the spec).
    meeting: Url | None = None
    website: Url | None = None


class AgendaItem(OParlObject):
    """A Tagesordnungspunkt; `result` is the categorical outcome ("Unverändert beschlossen")."""

    oparl_type: ClassVar[str] = "AgendaItem"
    required_since_1_1: ClassVar[tuple[str, ...]] = ("order",)

    meeting: Url | None = None
    number: StrictStr | None = None
    order: StrictInt | None = None
    name: StrictStr | None = None
    public: StrictBool | None = None
    consultation: Url | None = None
    result: StrictStr | None = None
    resolution_text: StrictStr | None = None
    resolution_file: File | None = None
    start: DateTime | None = None
    end: DateTime | None = None


class Meeting(OParlObject):
    oparl_type: ClassVar[str] = "Meeting"

    name: StrictStr | None = None
    meeting_state: StrictStr | None = None
    cancelled: StrictBool | None = None
    start: DateTime | None = None
    end: DateTime | None = None
    location: Location | None = None
    organization: UrlList = ()
    invitation: File | None = None
    results_protocol: File | None = None
    agenda_item: Annotated[tuple[AgendaItem, ...], BeforeValidator(_none_as_empty)] = ()


class Consultation(OParlObject):
    """A paper's Beratung in one organization; `authoritative` marks the deciding one."""

    oparl_type: ClassVar[str] = "Consultation"

    paper: Url | None = None
    agenda_item: Url | None = None
    meeting: Url | None = None
    organization: UrlList = ()
    authoritative: StrictBool | None = None
    role: StrictStr | None = None


class Paper(OParlObject):
    """A Drucksache, e.g. a Beschlussvorlage with `reference` "BV/2027/0012"."""

    oparl_type: ClassVar[str] = "Paper"

    body: Url | None = None
    name: StrictStr | None = None
    reference: StrictStr | None = None
    date: Date | None = None
    paper_type: StrictStr | None = None
    main_file: File | None = None
    consultation: Annotated[tuple[Consultation, ...], BeforeValidator(_none_as_empty)] = ()


class Pagination(OParlModel):
    """All optional; the client does not rely on them (it follows `links.next`)."""

    total_elements: StrictInt | None = None
    elements_per_page: StrictInt | None = None
    current_page: StrictInt | None = None
    total_pages: StrictInt | None = None


class Links(OParlModel):
    first: Url | None = None
    prev: Url | None = None
    self_: Url | None = Field(default=None, alias="self")
    next: Url | None = None
    last: Url | None = None
    web: Url | None = None


ItemT = TypeVar("ItemT", bound=OParlObject)


class ListPage(OParlModel, Generic[ItemT]):
    """One page of an external object list: `{data: [...], pagination: {...}, links: {...}}`."""

    data: list[ItemT]
    pagination: Pagination
    links: Links


OBJECT_MODELS: MappingProxyType[str, type[OParlObject]] = MappingProxyType(
    {
        model.oparl_type: model
        for model in (
            System,
            Body,
            Organization,
            Meeting,
            AgendaItem,
            Consultation,
            Paper,
            File,
            Location,
            LegislativeTerm,
        )
    }
)


def model_for(data: Any) -> type[OParlObject] | None:
    """The model for a JSON object by its `type` URI (1.0 or 1.1), None for other types."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None
    version, _, name = data["type"].removeprefix(SCHEMA_BASE).partition("/")
    return OBJECT_MODELS.get(name) if version in OPARL_VERSIONS else None
