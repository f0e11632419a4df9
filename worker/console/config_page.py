"""The agent config page: the active config as a form (admins may save it as a new version),
checked field by field by the same schema the API's PUT /config/active uses
(schema.agent_config.AgentConfigFields) and saved by the same use case
(worker.pipeline.config_change); below, every version with its changes against the one
before and how its drafts fared in review (a small server-drawn SVG chart)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from schema.agent_config import AgentConfigFields
from worker.bootstrap import Runtime
from worker.console.ops import bars
from worker.console.pages import render
from worker.console.session import admin_signed_in, check_csrf, signed_in
from worker.console.views import word_diff
from worker.pipeline.config_change import ConfigVersionView, activate_config, config_versions
from worker.store.reviewers import SignedIn

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Field:
    key: str  # the contract's name (camelCase)
    label: str
    kind: str  # line | text | list | number | optional
    hint: str = ""


FIELDS = (
    Field("name", "Assistant's name", "line", "How the assistant signs and names itself."),
    Field("personality", "Personality", "text"),
    Field("tonality", "Tone", "text"),
    Field("responseStyle", "Response style", "text"),
    Field("dosList", "Do", "list", "One rule per line."),
    Field("dontsList", "Don't", "list", "One rule per line."),
    Field("industry", "Industry", "optional", "Empty: the prompt speaks of “the business”."),
    Field("model", "Model", "optional", "Empty: the deployment's LLM_MODEL."),
    Field("allowedModels", "Models a message may ask for", "list", "One per line."),
    Field("fallbackModels", "Fallback models, in order", "list", "One per line."),
    Field("minConfidence", "Minimum confidence (0–1)", "number",
          "Below this the draft is marked as needing a person."),
    Field("handoffTopics", "Hand-off topics", "list",
          "One per line: a draft about one of them needs a person."),
    Field("linkAllowlist", "Domains links may point to", "list", "One per line, e.g. example.com."),
    Field("rateLimitPerMinute", "Messages per minute", "optional", "Empty: the default."),
    Field("dailyTokenBudget", "Tokens per day", "optional", "Empty: the default."),
    Field("dailyCostBudgetUsd", "Model cost per day (USD)", "optional", "Empty: the default."),
    Field("retentionDays", "Keep messages and drafts (days)", "optional", "Empty: keep."),
)
_KEYS = {f.key for f in FIELDS}
_OUTCOMES = ("approved", "edited", "rejected")


def form_values(config: dict[str, Any]) -> dict[str, str]:
    """A config (contract JSON) as the form's text fields."""
    out = {}
    for f in FIELDS:
        value = config.get(f.key)
        if isinstance(value, (list, tuple)):
            out[f.key] = "\n".join(str(v) for v in value)
        else:
            out[f.key] = "" if value is None else str(value)
    return out


def parse_form(fields: dict[str, str]) -> dict[str, Any]:
    """The form's text fields as the contract's JSON, for AgentConfigFields to check: lists
    one item a line, an empty optional field None. Nothing is checked here."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        raw = fields.get(f.key, "")[:20_000]
        if f.kind == "list":
            out[f.key] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind in ("optional", "number"):
            out[f.key] = raw.strip() or None
        else:
            out[f.key] = raw
    return out


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors by form field ('' for the config as a whole)."""
    out: dict[str, list[str]] = {}
    for e in exc.errors(include_url=False):
        loc = e.get("loc") or ()
        key = str(loc[0]) if loc and str(loc[0]) in _KEYS else ""
        message = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if key and len(loc) > 1 and isinstance(loc[1], int):
            message = f"line {loc[1] + 1}: {message}"
        out.setdefault(key, []).append(message)
    return out


@dataclass(frozen=True)
class Change:
    label: str
    diff: list[tuple[str, str]]


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Field by field, what differs from `before` to `after` (a word diff of each)."""
    old, new = form_values(before), form_values(after)
    return [Change(f.label, word_diff(old[f.key], new[f.key])) for f in FIELDS
            if old[f.key] != new[f.key]]


@dataclass(frozen=True)
class VersionRow:
    version: ConfigVersionView
    changes: list[Change] | None  # None: the first version
    counts: dict[str, int]
    chart: list


def _versions(rt: Runtime, client_id: str) -> list[VersionRow]:
    versions = config_versions(rt.sessions, client_id)
    out = []
    for i, v in enumerate(versions):
        previous = versions[i + 1] if i + 1 < len(versions) else None
        counts = {k: v.drafts.get(k, 0) for k in _OUTCOMES}
        out.append(VersionRow(
            v, changes(previous.fields, v.fields) if previous else None, counts,
            bars([(k, n, str(n)) for k, n in counts.items()], width=480, height=110),
        ))
    return out


def _active(rt: Runtime, client_id: str) -> tuple[dict[str, Any], int]:
    resolved = rt.configs.resolve(client_id)
    if resolved is None:
        return AgentConfigFields().as_contract_json(), 0
    return resolved.fields.as_contract_json(), resolved.version


def _page(request: Request, who: SignedIn, values: dict[str, str] | None = None,
          errors: dict[str, list[str]] | None = None, status_code: int = 200) -> HTMLResponse:
    rt: Runtime = request.app.state.rt
    active, version = _active(rt, who.client_id)
    compare = _compare(request, rt, who.client_id)
    return render(request, "config.html", status_code, who=who, section="config",
                  fields=FIELDS, values=values or form_values(active), errors=errors or {},
                  active_version=version, versions=_versions(rt, who.client_id),
                  compare=compare, saved=request.query_params.get("saved", ""))


def _compare(request: Request, rt: Runtime, client_id: str) -> dict | None:
    """?a=N&b=M: the changes from version N to version M."""
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    if not (a.isdigit() and b.isdigit()):
        return None
    by_version = {v.version: v for v in config_versions(rt.sessions, client_id)}
    if int(a) not in by_version or int(b) not in by_version:
        return {"a": a, "b": b, "changes": None}
    return {"a": a, "b": b,
            "changes": changes(by_version[int(a)].fields, by_version[int(b)].fields)}


@router.get("/config")
async def config_page(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    return await run_in_threadpool(_page, request, who)


@router.post("/config")
async def save_config(request: Request,
                      who: SignedIn = Depends(admin_signed_in)) -> HTMLResponse:
    fields = await check_csrf(request, who)
    values = {f.key: fields.get(f.key, "")[:20_000] for f in FIELDS}
    try:
        config = AgentConfigFields.model_validate(parse_form(values))
    except ValidationError as exc:
        return await run_in_threadpool(_page, request, who, values, field_errors(exc), 422)
    rt: Runtime = request.app.state.rt
    done = await run_in_threadpool(rt.call, activate_config, who.client_id, config,
                                   via=f"console:{who.name}")
    if done is None:
        return await run_in_threadpool(_page, request, who, values,
                                       {"": ["this dealer no longer exists"]}, 404)
    return RedirectResponse(f"/config?saved={done.version}#v{done.version}", status_code=303)
