"""The HubSpot REST surface: CRM v3 objects, search, merge, properties, pipelines, owners, associations v4,
web analytics events and legacy email events, as Starlette endpoints over a `HubSpotState`."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.hubspot.sandbox import search as search_mod
from connectors.hubspot.sandbox.errors import (
    ErrorDetail,
    HubSpotError,
    batch_standard_error,
    not_found,
    unauthorized,
    validation,
)
from connectors.hubspot.sandbox.events import EMAIL_EVENT_TYPES, decode_cursor, encode_cursor
from connectors.hubspot.sandbox.schema import DEAL_STAGES, DEFAULT_ASSOCIATION_TYPES, object_aliases
from connectors.hubspot.sandbox.state import HubSpotState
from connectors.hubspot.sandbox.store import Record
from connectors.hubspot.sandbox.values import datetime_value_ms, is_valid_email, iso_ms

logger = logging.getLogger(__name__)

Payload = tuple[int, Any]
Handler = Callable[[Request], Awaitable[Payload]]


class RawJson:
    """A response body already encoded as JSON text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def json_response(body: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status_code=204, headers=dict(headers or {}))
    return Response(
        body.text if isinstance(body, RawJson) else json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json;charset=utf-8",
    )


def _batch_envelope(
    results: list[Any], started: datetime, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(started),
    }
    if errors:
        out["errors"] = errors
        out["numErrors"] = len(errors)
    return out


class HubSpotApi:
    """Handlers bound to one portal state."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state
        self.aliases = object_aliases(state.types)
        self._type_by_assoc = {
            (from_t, type_id): to_t for (from_t, to_t), type_id in DEFAULT_ASSOCIATION_TYPES.items()
        }

    # ------------------------------------------------------------------ plumbing

    def endpoint(self, handler: Handler, *, search: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                self._authenticate(request)
                headers = self.state.limiter.admit(search=search).headers
                status, body = await handler(request)
            except HubSpotError as exc:
                return json_response(exc.body(), exc.status, {**headers, **exc.headers})
            except Exception:
                # The handler name, not the path: paths can hold email addresses.
                logger.exception("HubSpot sandbox handler %s failed (%s)", handler.__name__, request.method)
                error = HubSpotError(500, "internal error", category="INTERNAL_ERROR")
                return json_response(error.body(), 500, headers)
            return json_response(body, status, headers)

        return wrapped

    def _authenticate(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.state.access_token:
            raise unauthorized()

    async def _body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            raise validation("Invalid input JSON: no content to map due to end-of-input")
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise validation(
                f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None

    async def _object_body(self, request: Request) -> dict[str, Any]:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise validation("Invalid input JSON: expected an object")
        return body

    def _inputs(self, body: Mapping[str, Any], maximum: int) -> list[Any]:
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation("Invalid input JSON: inputs is required and must be a list")
        if len(inputs) > maximum:
            raise validation(
                f"Too many inputs: {len(inputs)}; a batch takes at most {maximum}",
                [ErrorDetail(f"inputs must contain at most {maximum} items", "TOO_MANY_INPUTS")],
            )
        return inputs

    def _object(self, raw: str) -> str:
        name = self.aliases.get(raw.lower())
        if name is None:
            raise HubSpotError(400, f"Unable to infer object type from: {raw}", category="VALIDATION_ERROR")
        return name

    @staticmethod
    def _list_param(request: Request, name: str) -> list[str]:
        out: list[str] = []
        for value in request.query_params.getlist(name):
            out.extend(v.strip() for v in value.split(",") if v.strip())
        return out

    @staticmethod
    def _bool_param(request: Request, name: str) -> bool:
        return request.query_params.get(name, "false").lower() == "true"

    @staticmethod
    def _int_param(request: Request, name: str, default: int, *, maximum: int, minimum: int = 1) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise validation(f"{name} must be an integer, got {raw!r}") from None
        if value < minimum or value > maximum:
            raise validation(
                f"{name} must be between {minimum} and {maximum}, got {value}",
                [
                    ErrorDetail(
                        f"{name} out of range", "INVALID_LIMIT" if name == "limit" else "INVALID_VALUE"
                    )
                ],
            )
        return value

    def _props_of(self, object_name: str, raw: Any, *, where: str) -> Mapping[str, Any]:
        if not isinstance(raw, dict):
            raise validation(f"Invalid input JSON: {where} needs a properties object")
        return raw

    # ------------------------------------------------------------------ single-record endpoints

    async def list_objects(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        s = self.state.settings
        limit = self._int_param(request, "limit", 10, maximum=s.max_list_limit)
        after_raw = request.query_params.get("after") or "0"
        try:
            after = int(after_raw)
        except ValueError:
            raise validation(
                f"after must be a paging cursor from a previous response, got {after_raw!r}"
            ) from None
        properties = self._list_param(request, "properties")
        history = self._list_param(request, "propertiesWithHistory")
        if history and limit > s.max_list_limit_with_history:
            raise validation(
                f"limit must be at most {s.max_list_limit_with_history} with propertiesWithHistory",
                [ErrorDetail("limit too high for propertiesWithHistory", "INVALID_LIMIT")],
            )
        associations = [self._object(a) for a in self._list_param(request, "associations")]
        archived = self._bool_param(request, "archived")
        paging = None
        with self.state.lock:
            store = self.state.store
            records, next_id = store.page(object_name, after, limit, archived)
            if next_id is not None:
                link = f"{request.url.path}?after={next_id}&limit={limit}"
                paging = {"next": {"after": str(next_id), "link": link}}
            if associations or history:
                results = [
                    store.render(object_name, r, properties, associations=associations, with_history=history)
                    for r in records
                ]
                body: dict[str, Any] = {"results": results}
                if paging:
                    body["paging"] = paging
                return 200, body
            # The hot path of full pulls: records come pre-encoded from their render cache.
            names = store.output_names(object_name, properties)
            fragments = ",".join(store.render_json(object_name, r, names) for r in records)
        tail = ',"paging":' + json.dumps(paging, separators=(",", ":")) if paging else ""
        return 200, RawJson('{"results":[' + fragments + "]" + tail + "}")

    async def get_object(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        raw_id = request.path_params["object_id"]
        properties = self._list_param(request, "properties")
        associations = [self._object(a) for a in self._list_param(request, "associations")]
        with self.state.lock:
            store = self.state.store
            record = store.find(
                object_name,
                raw_id,
                id_property=request.query_params.get("idProperty"),
                archived=self._bool_param(request, "archived"),
            )
            if record is None:
                raise not_found(store.types[object_name].singular, raw_id)
            history = self._list_param(request, "propertiesWithHistory")
            return 200, store.render(
                object_name, record, properties, associations=associations, with_history=history
            )

    async def create_object(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        body = await self._object_body(request)
        props = self._props_of(object_name, body.get("properties"), where="create")
        with self.state.lock:
            store = self.state.store
            values, problems = store.normalise(object_name, props)
            problems += store.check_required(object_name, values)
            store.raise_if_invalid(object_name, problems)
            links = self._parse_create_associations(object_name, body.get("associations"))
            if object_name == "contacts":
                store.check_email_free(values.get("email"), self_id=None)
            store.check_unique_free(object_name, values, self_id=None)
            record = store.insert(object_name, values)
            self._link(object_name, record.id, links)
            return 201, store.render(object_name, record, all_properties=True)

    async def update_object(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        raw_id = request.path_params["object_id"]
        body = await self._object_body(request)
        props = self._props_of(object_name, body.get("properties"), where="update")
        id_property = request.query_params.get("idProperty")
        with self.state.lock:
            store = self.state.store
            record = self._live_for_write(object_name, raw_id, id_property)
            if record is None:
                raise not_found(store.types[object_name].singular, raw_id)
            values, problems = store.normalise(object_name, props)
            store.raise_if_invalid(object_name, problems)
            if object_name == "contacts" and "email" in values:
                store.check_email_free(values["email"], self_id=record.id)
            store.check_unique_free(object_name, values, self_id=record.id)
            store.apply(object_name, record, values)
            return 200, store.render(object_name, record, all_properties=True)

    def _live_for_write(self, object_name: str, raw_id: str, id_property: str | None) -> Record | None:
        """Writes never follow merges: a merged-away id is gone for updates."""
        store = self.state.store
        if id_property and id_property != "hs_object_id":
            return store.find(object_name, raw_id, id_property=id_property)
        try:
            record = store.table(object_name).records.get(int(raw_id))
        except ValueError:
            return None
        return record if record is not None and not record.archived else None

    async def archive_object(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        with self.state.lock:
            record = self._live_for_write(object_name, request.path_params["object_id"], None)
            if record is not None:
                self.state.store.archive(object_name, record)
        return 204, None

    # ------------------------------------------------------------------ associations on create

    def _parse_create_associations(self, object_name: str, raw: Any) -> list[tuple[str, int, int]]:
        if not raw:
            return []
        if not isinstance(raw, list):
            raise validation("associations must be a list")
        store = self.state.store
        links: list[tuple[str, int, int]] = []
        for item in raw:
            to = item.get("to", {}) if isinstance(item, dict) else {}
            types = item.get("types", []) if isinstance(item, dict) else []
            for spec in types:
                type_id = spec.get("associationTypeId") if isinstance(spec, dict) else None
                to_type = (
                    self._type_by_assoc.get((object_name, type_id)) if isinstance(type_id, int) else None
                )
                if to_type is None or not isinstance(type_id, int):
                    raise validation(f"{type_id} is not a valid association type id for {object_name}")
                target = store.find(to_type, str(to.get("id")))
                if target is None:
                    raise validation(
                        f"Cannot associate: {store.types[to_type].singular} {to.get('id')} does not exist",
                        [ErrorDetail("association target not found", "INVALID_ASSOCIATION")],
                    )
                links.append((to_type, target.id, type_id))
        return links

    def _link(self, object_name: str, record_id: int, links: Sequence[tuple[str, int, int]]) -> None:
        for to_type, to_id, type_id in links:
            self.state.store.associate(object_name, record_id, to_type, to_id, type_id)

    # ------------------------------------------------------------------ batch endpoints

    async def batch(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        op = request.path_params["op"]
        body = await self._object_body(request)
        inputs = self._inputs(body, self.state.settings.max_batch_inputs)
        handler = {
            "read": self._batch_read,
            "create": self._batch_create,
            "update": self._batch_update,
            "upsert": self._batch_upsert,
            "archive": self._batch_archive,
        }.get(op)
        if handler is None:
            raise HubSpotError(404, f"No batch operation {op}", category="OBJECT_NOT_FOUND")
        with self.state.lock:
            return handler(object_name, body, inputs, request)

    def _batch_read(
        self, object_name: str, body: Mapping[str, Any], inputs: list[Any], request: Request
    ) -> Payload:
        store = self.state.store
        started = self.state.clock.now()
        properties = [str(p) for p in body.get("properties") or []]
        history = [str(p) for p in body.get("propertiesWithHistory") or []]
        id_property = body.get("idProperty")
        archived = self._bool_param(request, "archived")
        results: list[Any] = []
        missing: list[str] = []
        seen: set[int] = set()
        for item in inputs:
            raw_id = str(item.get("id")) if isinstance(item, dict) else str(item)
            record = store.find(object_name, raw_id, id_property=id_property, archived=archived)
            if record is None:
                missing.append(raw_id)
            elif record.id not in seen:
                seen.add(record.id)
                results.append(store.render(object_name, record, properties, with_history=history))
        if missing:
            t = store.types[object_name]
            error = batch_standard_error(
                "OBJECT_NOT_FOUND",
                f"Could not get some {t.singular.upper()} objects, they may be deleted or not exist. "
                "Check that ids are valid.",
                {"ids": missing},
            )
            return 207, _batch_envelope(results, started, [error])
        return 200, _batch_envelope(results, started)

    def _batch_create(
        self, object_name: str, body: Mapping[str, Any], inputs: list[Any], request: Request
    ) -> Payload:
        store = self.state.store
        started = self.state.clock.now()
        traced = bool(inputs) and all(isinstance(i, dict) and i.get("objectWriteTraceId") for i in inputs)
        prepared: list[tuple[dict[str, Any], dict[str, str | None], list[tuple[str, int, int]]]] = []
        errors: list[dict[str, Any]] = []
        pending: dict[str, int] = {}
        unique_pending: dict[tuple[str, str], int] = {}
        for item in inputs:
            if not isinstance(item, dict):
                raise validation("Invalid input JSON: each input must be an object")
            try:
                props = self._props_of(object_name, item.get("properties"), where="each input")
                values, problems = store.normalise(object_name, props)
                problems += store.check_required(object_name, values)
                store.raise_if_invalid(object_name, problems)
                links = self._parse_create_associations(object_name, item.get("associations"))
                if object_name == "contacts":
                    store.check_email_free(values.get("email"), self_id=None, pending=pending)
                store.check_unique_free(object_name, values, self_id=None, pending=unique_pending)
            except HubSpotError as exc:
                if not traced:
                    raise
                errors.append(
                    batch_standard_error(
                        exc.category, exc.message, {"objectWriteTraceId": [str(item["objectWriteTraceId"])]}
                    )
                )
                continue
            prepared.append((item, values, links))
        results = []
        for item, values, links in prepared:
            record = store.insert(object_name, values)
            self._link(object_name, record.id, links)
            rendered = store.render(object_name, record, all_properties=True)
            if item.get("objectWriteTraceId"):
                rendered["objectWriteTraceId"] = str(item["objectWriteTraceId"])
            results.append(rendered)
        if errors:
            return 207, _batch_envelope(results, started, errors)
        return 201, _batch_envelope(results, started)

    def _batch_update(
        self, object_name: str, body: Mapping[str, Any], inputs: list[Any], request: Request
    ) -> Payload:
        store = self.state.store
        started = self.state.clock.now()
        ids: list[str] = []
        for item in inputs:
            if not isinstance(item, dict) or item.get("id") is None:
                raise validation("Invalid input JSON: each input needs an id and properties")
            ids.append(str(item["id"]))
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise validation(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        missing: list[str] = []
        work: list[tuple[Record, dict[str, str | None]]] = []
        problems_all = []
        pending: dict[str, int] = {}
        for item in inputs:
            props = self._props_of(object_name, item.get("properties"), where="each input")
            values, problems = store.normalise(object_name, props)
            problems_all.extend(problems)
            record = self._live_for_write(object_name, str(item["id"]), item.get("idProperty"))
            if record is None:
                missing.append(str(item["id"]))
                continue
            work.append((record, values))
        store.raise_if_invalid(object_name, problems_all)
        if object_name == "contacts":
            for record, values in work:
                if "email" in values:
                    store.check_email_free(values["email"], self_id=record.id, pending=pending)
        unique_pending: dict[tuple[str, str], int] = {}
        for record, values in work:
            store.check_unique_free(object_name, values, self_id=record.id, pending=unique_pending)
        results = []
        for record, values in work:
            store.apply(object_name, record, values)
            results.append(store.render(object_name, record, all_properties=True))
        if missing:
            t = store.types[object_name]
            error = batch_standard_error(
                "OBJECT_NOT_FOUND",
                f"Could not get some {t.singular.upper()} objects, they may be deleted or not exist. "
                "Check that ids are valid.",
                {"ids": missing},
            )
            return 207, _batch_envelope(results, started, [error])
        return 200, _batch_envelope(results, started)

    def _batch_upsert(
        self, object_name: str, body: Mapping[str, Any], inputs: list[Any], request: Request
    ) -> Payload:
        store = self.state.store
        started = self.state.clock.now()
        keyed: list[tuple[str, dict[str, str | None]]] = []
        problems_all = []
        for item in inputs:
            if not isinstance(item, dict) or item.get("id") is None:
                raise validation("Invalid input JSON: each input needs an id, an idProperty and properties")
            id_property = item.get("idProperty") or body.get("idProperty")
            if id_property in store.unique_props[object_name]:
                return self._batch_upsert_unique(object_name, str(id_property), inputs)
            if not (object_name == "contacts" and id_property == "email"):
                raise validation(
                    f"Upsert needs a unique idProperty; {id_property!r} is not unique on "
                    f"{store.types[object_name].singular}",
                    [ErrorDetail("idProperty must be a unique-value property", "INVALID_ID_PROPERTY")],
                )
            props = self._props_of(object_name, item.get("properties"), where="each input")
            values, problems = store.normalise(object_name, props)
            key = str(item["id"])
            problems_all.extend(problems)
            keyed.append((key, values))
        store.raise_if_invalid(object_name, problems_all)
        keys = [store.key_for_email(k) for k, _ in keyed]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise validation(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        plan: list[tuple[Record | None, str, dict[str, str | None]]] = []
        pending: dict[str, int] = {}
        for key, values in keyed:
            holder = store.email_owner(key)
            record = store.table(object_name).records.get(holder) if holder is not None else None
            if record is None and not is_valid_email(key):
                raise validation(
                    f"Property values were not valid: Email address {key} is invalid",
                    [ErrorDetail(f"Email address {key} is invalid", "INVALID_EMAIL")],
                )
            new_email = values.get("email")
            if new_email:
                store.check_email_free(new_email, self_id=record.id if record else None, pending=pending)
            plan.append((record, key, values))
        results = []
        for record, key, values in plan:
            if record is None:
                values = {"email": key, **values}
                created = store.insert(object_name, values)
                out = store.render(object_name, created, all_properties=True)
                out["new"] = True
            else:
                store.apply(object_name, record, values)
                out = store.render(object_name, record, all_properties=True)
                out["new"] = False
            results.append(out)
        return 200, _batch_envelope(results, started)

    def _batch_upsert_unique(self, object_name: str, id_property: str, inputs: list[Any]) -> Payload:
        """Upsert keyed by a custom unique property: create with the key, or update its holder."""
        store = self.state.store
        started = self.state.clock.now()
        keyed: list[tuple[str, dict[str, str | None]]] = []
        problems_all = []
        for item in inputs:
            if not isinstance(item, dict) or item.get("id") in (None, ""):
                raise validation("Invalid input JSON: each input needs an id, an idProperty and properties")
            if (item.get("idProperty") or id_property) != id_property:
                raise validation("Every input of one upsert must use the same idProperty")
            props = self._props_of(object_name, item.get("properties"), where="each input")
            values, problems = store.normalise(object_name, props)
            problems_all.extend(problems)
            keyed.append((str(item["id"]), values))
        store.raise_if_invalid(object_name, problems_all)
        keys = [k for k, _ in keyed]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise validation(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        plan: list[tuple[Record | None, dict[str, str | None]]] = []
        pending: dict[tuple[str, str], int] = {}
        for key, values in keyed:
            holder = store.unique_holder(object_name, id_property, key)
            record = store.table(object_name).records.get(holder) if holder is not None else None
            values = {**values, id_property: values.get(id_property) or key}
            if record is None:
                store.raise_if_invalid(object_name, store.check_required(object_name, values))
            self_id = record.id if record is not None else None
            store.check_unique_free(object_name, values, self_id=self_id, pending=pending)
            plan.append((record, values))
        results = []
        for record, values in plan:
            if record is None:
                record = store.insert(object_name, values)
                out = store.render(object_name, record, all_properties=True)
                out["new"] = True
            else:
                store.apply(object_name, record, values)
                out = store.render(object_name, record, all_properties=True)
                out["new"] = False
            results.append(out)
        return 200, _batch_envelope(results, started)

    def _batch_archive(
        self, object_name: str, body: Mapping[str, Any], inputs: list[Any], request: Request
    ) -> Payload:
        for item in inputs:
            raw_id = str(item.get("id")) if isinstance(item, dict) else str(item)
            record = self._live_for_write(object_name, raw_id, None)
            if record is not None:
                self.state.store.archive(object_name, record)
        return 204, None

    # ------------------------------------------------------------------ merge

    async def merge(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        if object_name != "contacts":
            raise HubSpotError(
                400, f"Merging {object_name} is not supported by this portal", category="VALIDATION_ERROR"
            )
        body = await self._object_body(request)
        primary, other = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if primary is None or other is None:
            raise validation("primaryObjectId and objectIdToMerge are required")
        with self.state.lock:
            record = self.state.store.merge_contacts(str(primary), str(other))
            for old in (primary, other):
                with contextlib.suppress(ValueError):
                    self.state.events.move_object(int(old), record.id)
            return 200, self.state.store.render("contacts", record, all_properties=True)

    # ------------------------------------------------------------------ search

    async def search(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        raw = await request.body()
        s = self.state.settings
        if len(raw) > s.max_search_body_chars:
            raise validation(
                f"Search request body is {len(raw)} characters; the limit is {s.max_search_body_chars}",
                [ErrorDetail("request body too long", "REQUEST_TOO_LONG")],
            )
        body = await self._object_body(request)
        limits = search_mod.SearchLimits(max_limit=s.max_search_limit, max_results=s.max_search_results)
        with self.state.lock:
            store = self.state.store
            t = store.types[object_name]
            req = search_mod.parse_request(t, body, limits)
            cutoff = self.state.monotonic() - s.search_index_lag_ms / 1000
            total, page = search_mod.run(t, req, store.indexed(object_name, cutoff))
            results = []
            for rid, props in page:
                record = store.table(object_name).records[rid]
                rendered = store.render(object_name, record, list(req.properties), props_override=dict(props))
                modified = props.get(t.modified_property)
                if modified:
                    rendered["updatedAt"] = modified
                results.append(rendered)
        out: dict[str, Any] = {"total": total, "results": results}
        next_after = req.after + req.limit
        if next_after < total:
            out["paging"] = {"next": {"after": str(next_after), "link": f"?after={next_after}"}}
        return 200, out

    # ------------------------------------------------------------------ schema endpoints

    def _property_json(self, object_name: str, name: str) -> dict[str, Any]:
        t = self.state.types[object_name]
        p = t.properties[name]
        created = iso_ms(self.state.portal_created)
        if name == "hubspot_owner_id":
            options = [
                {"value": o.id, "label": f"{o.first_name} {o.last_name}", "displayOrder": i, "hidden": False}
                for i, o in enumerate(self.state.store.owners.values())
            ]
        else:
            options = [
                {"value": o.value, "label": o.label, "displayOrder": o.display_order, "hidden": False}
                for o in p.options
            ]
        return {
            "name": p.name,
            "label": p.label,
            "type": p.type,
            "fieldType": p.field_type,
            "description": p.description,
            "groupName": p.group_name,
            "options": options,
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": name == "hubspot_owner_id",
            "hasUniqueValue": p.has_unique_value,
            "hidden": False,
            "hubspotDefined": p.hubspot_defined,
            "formField": not p.read_only,
            "archived": False,
            "createdAt": created,
            "updatedAt": created,
            "modificationMetadata": {
                "archivable": not p.hubspot_defined,
                "readOnlyDefinition": p.hubspot_defined,
                "readOnlyValue": p.read_only,
            },
        }

    async def list_properties(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        with self.state.lock:
            names = list(self.state.types[object_name].properties)
            return 200, {"results": [self._property_json(object_name, n) for n in names]}

    async def get_property(self, request: Request) -> Payload:
        object_name = self._object(request.path_params["object"])
        name = request.path_params["name"]
        if name not in self.state.types[object_name].properties:
            raise HubSpotError(
                404, f"Unable to find property {name} on {object_name}", category="OBJECT_NOT_FOUND"
            )
        with self.state.lock:
            return 200, self._property_json(object_name, name)

    def _pipeline_json(self) -> dict[str, Any]:
        created = iso_ms(self.state.portal_created)
        stages = [
            {
                "id": sid,
                "label": label,
                "displayOrder": i,
                "metadata": {"isClosed": "true" if closed else "false", "probability": str(prob)},
                "archived": False,
                "createdAt": created,
                "updatedAt": created,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, (sid, label, prob, closed) in enumerate(DEAL_STAGES)
        ]
        return {
            "id": "default",
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "stages": stages,
            "archived": False,
            "createdAt": created,
            "updatedAt": created,
        }

    def _pipeline_object(self, request: Request) -> None:
        if self._object(request.path_params["object"]) != "deals":
            raise HubSpotError(400, "This portal has pipelines for deals only", category="VALIDATION_ERROR")

    async def list_pipelines(self, request: Request) -> Payload:
        self._pipeline_object(request)
        return 200, {"results": [self._pipeline_json()]}

    async def get_pipeline(self, request: Request) -> Payload:
        self._pipeline_object(request)
        if request.path_params["pipeline_id"] != "default":
            raise HubSpotError(
                404, f"Pipeline {request.path_params['pipeline_id']} not found", category="OBJECT_NOT_FOUND"
            )
        return 200, self._pipeline_json()

    async def list_stages(self, request: Request) -> Payload:
        _, pipeline = await self.get_pipeline(request)
        return 200, {"results": pipeline["stages"]}

    def _owner_json(self, owner_id: str) -> dict[str, Any]:
        o = self.state.store.owners[owner_id]
        return {
            "id": o.id,
            "email": o.email,
            "firstName": o.first_name,
            "lastName": o.last_name,
            "type": "PERSON",
            "userId": o.user_id,
            "userIdIncludingInactive": o.user_id,
            "createdAt": iso_ms(o.created_at),
            "updatedAt": iso_ms(o.created_at),
            "archived": False,
            "teams": [],
        }

    async def list_owners(self, request: Request) -> Payload:
        limit = self._int_param(request, "limit", 100, maximum=500)
        email = request.query_params.get("email")
        try:
            after = int(request.query_params.get("after") or 0)
        except ValueError:
            raise validation("after must be a paging cursor from a previous response") from None
        with self.state.lock:
            ids = [
                oid
                for oid, o in self.state.store.owners.items()
                if not email or o.email.lower() == email.strip().lower()
            ]
            if self._bool_param(request, "archived"):
                ids = []
            page = ids[after : after + limit]
            body: dict[str, Any] = {"results": [self._owner_json(i) for i in page]}
        if after + limit < len(ids):
            body["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return 200, body

    async def get_owner(self, request: Request) -> Payload:
        owner_id = request.path_params["owner_id"]
        with self.state.lock:
            if owner_id not in self.state.store.owners:
                raise HubSpotError(404, f"Owner {owner_id} not found", category="OBJECT_NOT_FOUND")
            return 200, self._owner_json(owner_id)

    # ------------------------------------------------------------------ associations v4

    def _pair(self, request: Request) -> tuple[str, str]:
        return self._object(request.path_params["from_type"]), self._object(request.path_params["to_type"])

    async def assoc_batch_read(self, request: Request) -> Payload:
        from_type, to_type = self._pair(request)
        body = await self._object_body(request)
        inputs = self._inputs(body, self.state.settings.max_association_read_inputs)
        started = self.state.clock.now()
        with self.state.lock:
            store = self.state.store
            results, errors = [], []
            for item in inputs:
                raw_id = str(item.get("id")) if isinstance(item, dict) else str(item)
                record = store.find(from_type, raw_id)
                links = store.associated(from_type, record.id, to_type) if record else []
                if not links:
                    errors.append(
                        {
                            **batch_standard_error(
                                "OBJECT_NOT_FOUND",
                                f"No {store.types[to_type].singular} is associated with "
                                f"{store.types[from_type].singular} {raw_id}.",
                                {"fromObjectId": [raw_id], "toObjectType": [store.types[to_type].singular]},
                            ),
                            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        }
                    )
                    continue
                results.append(
                    {
                        "from": {"id": raw_id},
                        "to": [
                            {
                                "toObjectId": tid,
                                "associationTypes": [
                                    {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                                    for type_id in types
                                ],
                            }
                            for tid, types in links
                        ],
                    }
                )
        if errors:
            return 207, _batch_envelope(results, started, errors)
        return 200, _batch_envelope(results, started)

    def _valid_type(self, from_type: str, to_type: str, spec: Any) -> int:
        if not isinstance(spec, dict) or not isinstance(spec.get("associationTypeId"), int):
            raise validation("each type needs associationCategory and an integer associationTypeId")
        type_id: int = spec["associationTypeId"]
        category = spec.get("associationCategory")
        if category not in ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"):
            raise validation(f"{category!r} is not a valid associationCategory")
        if category == "HUBSPOT_DEFINED" and DEFAULT_ASSOCIATION_TYPES.get((from_type, to_type)) != type_id:
            raise validation(
                f"{type_id} is not a valid HUBSPOT_DEFINED association type from {from_type} to {to_type}",
                [ErrorDetail("invalid association type", "INVALID_ASSOCIATION_TYPE")],
            )
        return type_id

    async def assoc_batch_create(self, request: Request) -> Payload:
        from_type, to_type = self._pair(request)
        body = await self._object_body(request)
        inputs = self._inputs(body, self.state.settings.max_association_create_inputs)
        started = self.state.clock.now()
        with self.state.lock:
            store = self.state.store
            plan: list[tuple[int, int, list[int]]] = []
            errors = []
            for item in inputs:
                if not isinstance(item, dict):
                    raise validation("each input needs from, to and types")
                type_ids = [self._valid_type(from_type, to_type, spec) for spec in item.get("types") or []]
                if not type_ids:
                    raise validation("each input needs at least one association type")
                src = store.find(from_type, str((item.get("from") or {}).get("id")))
                dst = store.find(to_type, str((item.get("to") or {}).get("id")))
                if src is None or dst is None:
                    missing = (
                        (item.get("from") or {}).get("id")
                        if src is None
                        else (item.get("to") or {}).get("id")
                    )
                    errors.append(
                        batch_standard_error(
                            "VALIDATION_ERROR",
                            f"One or more objects in the input do not exist: {missing}",
                            {"objectId": [str(missing)]},
                        )
                    )
                    continue
                plan.append((src.id, dst.id, type_ids))
            results = []
            for src_id, dst_id, type_ids in plan:
                for type_id in type_ids:
                    store.associate(from_type, src_id, to_type, dst_id, type_id)
                results.append(
                    {
                        "fromObjectTypeId": store.types[from_type].type_id,
                        "fromObjectId": src_id,
                        "toObjectTypeId": store.types[to_type].type_id,
                        "toObjectId": dst_id,
                        "labels": [],
                    }
                )
        if errors:
            return 207, _batch_envelope(results, started, errors)
        return 201, _batch_envelope(results, started)

    async def assoc_batch_archive(self, request: Request) -> Payload:
        """Remove every association between each pair: `{"inputs": [{"from": {"id"}, "to": [{"id"}]}]}`.
        Pairs that are not associated (or records that do not exist) are skipped silently; 204."""
        from_type, to_type = self._pair(request)
        body = await self._object_body(request)
        inputs = self._inputs(body, self.state.settings.max_association_create_inputs)
        with self.state.lock:
            store = self.state.store
            for item in inputs:
                if not isinstance(item, dict) or not isinstance(item.get("to"), list):
                    raise validation("each input needs from and a list of to")
                src = store.find(from_type, str((item.get("from") or {}).get("id")))
                for target in item["to"]:
                    dst = (
                        store.find(to_type, str((target or {}).get("id")))
                        if isinstance(target, dict)
                        else None
                    )
                    if src is not None and dst is not None:
                        store.dissociate(from_type, src.id, to_type, dst.id)
        return 204, None

    def _default_link(self, from_type: str, from_raw: str, to_type: str, to_raw: str) -> list[dict[str, Any]]:
        store = self.state.store
        forward = DEFAULT_ASSOCIATION_TYPES.get((from_type, to_type))
        backward = DEFAULT_ASSOCIATION_TYPES.get((to_type, from_type))
        if forward is None or backward is None:
            raise validation(f"There is no default association from {from_type} to {to_type}")
        src = store.find(from_type, from_raw)
        dst = store.find(to_type, to_raw)
        if src is None:
            raise not_found(store.types[from_type].singular, from_raw)
        if dst is None:
            raise not_found(store.types[to_type].singular, to_raw)
        store.associate(from_type, src.id, to_type, dst.id, forward)
        return [
            {
                "from": {"id": str(src.id)},
                "to": {"id": str(dst.id)},
                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": forward},
            },
            {
                "from": {"id": str(dst.id)},
                "to": {"id": str(src.id)},
                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": backward},
            },
        ]

    async def assoc_put_default(self, request: Request) -> Payload:
        from_type, to_type = self._pair(request)
        started = self.state.clock.now()
        with self.state.lock:
            results = self._default_link(
                from_type, request.path_params["from_id"], to_type, request.path_params["to_id"]
            )
        return 200, _batch_envelope(results, started)

    async def assoc_batch_default(self, request: Request) -> Payload:
        from_type, to_type = self._pair(request)
        body = await self._object_body(request)
        inputs = self._inputs(body, self.state.settings.max_association_create_inputs)
        started = self.state.clock.now()
        with self.state.lock:
            results: list[dict[str, Any]] = []
            for item in inputs:
                if not isinstance(item, dict):
                    raise validation("each input needs from and to")
                results.extend(
                    self._default_link(
                        from_type,
                        str((item.get("from") or {}).get("id")),
                        to_type,
                        str((item.get("to") or {}).get("id")),
                    )
                )
        return 200, _batch_envelope(results, started)

    async def assoc_list(self, request: Request) -> Payload:
        from_type, to_type = self._pair(request)
        raw_id = request.path_params["from_id"]
        limit = self._int_param(request, "limit", 500, maximum=500)
        try:
            after = int(request.query_params.get("after") or 0)
        except ValueError:
            raise validation("after must be a paging cursor from a previous response") from None
        with self.state.lock:
            store = self.state.store
            record = store.find(from_type, raw_id)
            if record is None:
                raise not_found(store.types[from_type].singular, raw_id)
            links = [link for link in store.associated(from_type, record.id, to_type) if link[0] >= after]
        page = links[:limit]
        body: dict[str, Any] = {
            "results": [
                {
                    "toObjectId": tid,
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None} for t in types
                    ],
                }
                for tid, types in page
            ]
        }
        if len(links) > limit:
            body["paging"] = {"next": {"after": str(links[limit][0])}}
        return 200, body

    # ------------------------------------------------------------------ events

    async def web_events(self, request: Request) -> Payload:
        qp = request.query_params
        object_type = (qp.get("objectType") or "contact").lower()
        if self.aliases.get(object_type) != "contacts":
            raise validation(f"objectType {object_type} has no web analytics events in this portal")
        limit = self._int_param(request, "limit", 100, maximum=100)
        object_id: int | None = None
        if qp.get("objectId"):
            try:
                object_id = int(qp["objectId"])
            except ValueError:
                raise validation("objectId must be numeric") from None
        after_ms = self._time_param(qp.get("occurredAfter"), "occurredAfter")
        before_ms = self._time_param(qp.get("occurredBefore"), "occurredBefore")
        cursor = decode_cursor(qp["after"]) if qp.get("after") else None
        if qp.get("after") and cursor is None:
            raise validation("after must be a paging cursor from a previous response")
        descending = any(
            s.upper() in ("DESCENDING", "-OCCURREDAT") for s in self._list_param(request, "sort")
        )
        by_email = qp.get("objectProperty.email")
        if object_id is None and not by_email:
            raise validation(
                "objectId or objectProperty.email is required with objectType",
                [ErrorDetail("give objectId or objectProperty.{propname}", "MISSING_OBJECT")],
            )
        with self.state.lock:
            if by_email:
                record = self.state.store.find("contacts", by_email, id_property="email")
                if record is None:
                    raise not_found("contact", by_email)
                object_id = record.id
            if object_id is not None:
                object_id = self.state.store.merged_into.get(object_id, object_id)
            events, next_cursor = self.state.events.web_page(
                object_id=object_id,
                event_type=qp.get("eventType"),
                occurred_after=after_ms,
                occurred_before=before_ms,
                after=cursor,
                limit=limit,
                descending=descending,
            )
            body: dict[str, Any] = {"results": [e.to_json() for e in events]}
        if next_cursor is not None:
            body["paging"] = {"next": {"after": next_cursor, "link": f"?after={next_cursor}"}}
        return 200, body

    async def web_event_types(self, request: Request) -> Payload:
        with self.state.lock:
            names = sorted({e.event_type for _, _, e in self.state.events.web})
        s = self.state.settings
        return 200, {"eventTypes": sorted({*names, s.page_view_event_type, s.form_submission_event_type})}

    @staticmethod
    def _time_param(raw: str | None, name: str) -> int | None:
        if not raw:
            return None
        ms = datetime_value_ms(raw)
        if ms is None:
            raise validation(f"{name} must be a timestamp (ISO 8601 or epoch milliseconds), got {raw!r}")
        return ms

    async def email_events(self, request: Request) -> Payload:
        qp = request.query_params
        limit = self._int_param(request, "limit", 100, maximum=1000)
        event_type = qp.get("eventType")
        if event_type and event_type not in EMAIL_EVENT_TYPES:
            raise validation(f"eventType {event_type} is not one of {sorted(EMAIL_EVENT_TYPES)}")
        offset = decode_cursor(qp["offset"]) if qp.get("offset") else None
        if qp.get("offset") and offset is None:
            raise validation("offset must be a value returned by a previous response")
        campaign_raw = qp.get("campaignId")
        try:
            campaign_id = int(campaign_raw) if campaign_raw else None
        except ValueError:
            raise validation("campaignId must be numeric") from None
        with self.state.lock:
            events, next_offset = self.state.events.email_page(
                start_ms=self._time_param(qp.get("startTimestamp"), "startTimestamp"),
                end_ms=self._time_param(qp.get("endTimestamp"), "endTimestamp"),
                event_type=event_type,
                recipient=qp.get("recipient"),
                campaign_id=campaign_id,
                offset=offset,
                limit=limit,
            )
            body: dict[str, Any] = {
                "events": [e.to_json() for e in events],
                "hasMore": next_offset is not None,
            }
        if next_offset is not None:
            body["offset"] = next_offset
        return 200, body

    async def email_campaigns(self, request: Request) -> Payload:
        limit = self._int_param(request, "limit", 250, maximum=1000)
        offset = decode_cursor(request.query_params["offset"]) if request.query_params.get("offset") else None
        start = offset[0] if offset else 0
        with self.state.lock:
            ids = sorted(self.state.events.campaigns)
            page = ids[start : start + limit]
            body: dict[str, Any] = {
                "campaigns": [
                    {
                        "id": cid,
                        "appId": 113,
                        "appName": "Batch",
                        "lastUpdatedTime": self.state.events.campaigns[cid].sent_ms,
                    }
                    for cid in page
                ],
                "hasMore": start + limit < len(ids),
            }
        if start + limit < len(ids):
            body["offset"] = encode_cursor(start + limit)
        return 200, body

    async def email_campaign(self, request: Request) -> Payload:
        try:
            cid = int(request.path_params["campaign_id"])
        except ValueError:
            raise validation("campaign id must be numeric") from None
        with self.state.lock:
            campaign = self.state.events.campaigns.get(cid)
            if campaign is None:
                raise HubSpotError(404, f"Email campaign {cid} not found", category="OBJECT_NOT_FOUND")
            return 200, campaign.to_json()

    # ------------------------------------------------------------------ routing

    def routes(self) -> list[Route]:
        e = self.endpoint
        objects = "/crm/v3/objects/{object}"
        return [
            Route(objects, e(self.list_objects), methods=["GET"]),
            Route(objects, e(self.create_object), methods=["POST"]),
            Route(objects + "/search", e(self.search, search=True), methods=["POST"]),
            Route(objects + "/merge", e(self.merge), methods=["POST"]),
            Route(objects + "/batch/{op}", e(self.batch), methods=["POST"]),
            Route(objects + "/{object_id}", e(self.get_object), methods=["GET"]),
            Route(objects + "/{object_id}", e(self.update_object), methods=["PATCH"]),
            Route(objects + "/{object_id}", e(self.archive_object), methods=["DELETE"]),
            Route("/crm/v3/properties/{object}", e(self.list_properties), methods=["GET"]),
            Route("/crm/v3/properties/{object}/{name}", e(self.get_property), methods=["GET"]),
            Route("/crm/v3/pipelines/{object}", e(self.list_pipelines), methods=["GET"]),
            Route("/crm/v3/pipelines/{object}/{pipeline_id}", e(self.get_pipeline), methods=["GET"]),
            Route("/crm/v3/pipelines/{object}/{pipeline_id}/stages", e(self.list_stages), methods=["GET"]),
            Route("/crm/v3/owners", e(self.list_owners), methods=["GET"]),
            Route("/crm/v3/owners/", e(self.list_owners), methods=["GET"]),
            Route("/crm/v3/owners/{owner_id}", e(self.get_owner), methods=["GET"]),
            Route(
                "/crm/v4/associations/{from_type}/{to_type}/batch/read",
                e(self.assoc_batch_read),
                methods=["POST"],
            ),
            Route(
                "/crm/v4/associations/{from_type}/{to_type}/batch/create",
                e(self.assoc_batch_create),
                methods=["POST"],
            ),
            Route(
                "/crm/v4/associations/{from_type}/{to_type}/batch/archive",
                e(self.assoc_batch_archive),
                methods=["POST"],
            ),
            Route(
                "/crm/v4/associations/{from_type}/{to_type}/batch/associate/default",
                e(self.assoc_batch_default),
                methods=["POST"],
            ),
            Route(
                "/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}",
                e(self.assoc_put_default),
                methods=["PUT"],
            ),
            Route(
                "/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}",
                e(self.assoc_list),
                methods=["GET"],
            ),
            Route("/events/v3/events/event-types", e(self.web_event_types), methods=["GET"]),
            Route("/events/v3/events", e(self.web_events), methods=["GET"]),
            Route("/events/v3/events/", e(self.web_events), methods=["GET"]),
            Route("/email/public/v1/events", e(self.email_events), methods=["GET"]),
            Route("/email/public/v1/campaigns/by-id", e(self.email_campaigns), methods=["GET"]),
            Route("/email/public/v1/campaigns/{campaign_id}", e(self.email_campaign), methods=["GET"]),
        ]
