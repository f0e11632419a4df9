"""The console's pages and actions: sign-in, the queue with the selected draft, approve / edit
/ reject. Server-rendered (Jinja2, autoescaped); plain HTML forms that work without
JavaScript, which only adds live updates, keyboard shortcuts and the edit diff."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from worker import metrics
from worker.console import credentials, throttle, views
from worker.console.session import (
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, check_csrf, set_cookie, sign_in, sign_out, signed_in,
)
from worker.errors import AgentRuntimeError
from worker.logs import log
from worker.bootstrap import Runtime
from worker.store.reviewers import SignedIn

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_ID = r"^[0-9A-Za-z]{1,64}$"


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def render(request: Request, template: str, status_code: int = 200,
           **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


# --- sign-in ---------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request)


def _login_form(request: Request, error: str | None = None, client: str = "",
                name: str = "", status_code: int | None = None) -> HTMLResponse:
    token = credentials.new_token()
    status = status_code or (401 if error else 200)
    response = render(request, "login.html", status, login_csrf=token,
                      error=error, client=client, name=name)
    set_cookie(response, _rt(request), LOGIN_CSRF_COOKIE, token, 600)
    return response


@router.post("/login")
async def login(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    client, name = fields.get("client", "").strip()[:200], fields.get("name", "").strip()[:200]
    if not expected or not credentials.hmac_equal(fields.get("csrf", ""), expected):
        return _login_form(request, "Your sign-in form expired; please try again.", client, name)
    rt = _rt(request)
    ip = request.client.host if request.client else "unknown"
    ns = rt.settings.redis_namespace
    wait = await run_in_threadpool(throttle.blocked_for, rt.redis, ns, client, name, ip)
    if wait:
        log.info("console.sign_in_throttled", client_id=client[:200])
        minutes = (wait + 59) // 60
        return _login_form(request, "Too many failed sign-ins. Try again in "
                           f"{minutes} minute{'' if minutes == 1 else 's'}.", client, name,
                           status_code=429)
    token = await run_in_threadpool(sign_in, rt, client, name, fields.get("secret", "")[:1024])
    if token is None:
        await run_in_threadpool(throttle.failed, rt.redis, ns, client, name, ip)
        log.info("console.sign_in_refused", client_id=client[:200])
        return _login_form(request, "Unknown dealer, name or secret.", client, name)
    await run_in_threadpool(throttle.succeeded, rt.redis, ns, client, name, ip)
    log.info("console.signed_in", client_id=client, reviewer=name)
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, rt, SESSION_COOKIE, token, int(rt.settings.console_session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, who: SignedIn = Depends(signed_in)) -> RedirectResponse:
    await check_csrf(request, who)
    await run_in_threadpool(sign_out, _rt(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the queue and the selected draft ----------------------------------------------------------


def _queue_context(rt: Runtime, who: SignedIn, filters: views.Filters,
                   selected: str | None) -> dict:
    with rt.sessions() as session:
        rows = views.queue_rows(session, who.client_id, filters)
        if selected is None and rows:
            selected = rows[0].id
        view = views.draft_view(session, who.client_id, selected) if selected else None
    return {"rows": rows, "view": view, "filters": filters, "who": who,
            "selected": view.draft.id if view else None, "statuses": views.STATUSES,
            "channels": views.CHANNELS, "ages": views.AGES, "reasons": views.REJECT_REASONS,
            "filter_query": urlencode(filters.as_params())}


@router.get("/")
def queue_page(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    params = dict(request.query_params)
    selected = params.get("draft") if _valid_id(params.get("draft")) else None
    context = _queue_context(_rt(request), who, views.Filters.parse(params), selected)
    if selected and context["view"] is None:
        return render(request, "missing.html", 404, who=who)
    return render(request, "queue.html", **context)


@router.get("/queue/items")
def queue_items(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The list alone (live refresh and filters)."""
    params = dict(request.query_params)
    selected = params.get("draft") if _valid_id(params.get("draft")) else None
    filters = views.Filters.parse(params)
    with _rt(request).sessions() as session:
        rows = views.queue_rows(session, who.client_id, filters)
    return render(request, "_list.html", rows=rows, selected=selected, filters=filters,
                  filter_query=urlencode(filters.as_params()))


@router.get("/drafts/{draft_id}")
def draft_page(request: Request, draft_id: str,
               who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    if not _valid_id(draft_id):
        return render(request, "missing.html", 404, who=who)
    params = dict(request.query_params)
    context = _queue_context(_rt(request), who, views.Filters.parse(params), draft_id)
    if context["view"] is None:
        return render(request, "missing.html", 404, who=who)
    return render(request, "queue.html", **context)


@router.get("/drafts/{draft_id}/pane")
def draft_pane(request: Request, draft_id: str,
               who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The draft view alone (moving through the queue without a reload)."""
    view = None
    if _valid_id(draft_id):
        with _rt(request).sessions() as session:
            view = views.draft_view(session, who.client_id, draft_id)
    if view is None:
        return render(request, "_missing.html", 404)
    params = views.Filters.parse(dict(request.query_params)).as_params()
    return render(request, "_draft.html", view=view, who=who, reasons=views.REJECT_REASONS,
                  filter_query=urlencode(params))


def _valid_id(value: str | None) -> bool:
    return bool(value) and len(value) <= 64 and value.isalnum()


# --- decisions ----------------------------------------------------------------------------------


@router.post("/drafts/{draft_id}/{action}")
async def decide(request: Request, draft_id: str, action: str,
                 who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    fields = await check_csrf(request, who)
    if action not in ("approve", "edit", "reject") or not _valid_id(draft_id):
        return render(request, "missing.html", 404, who=who)
    rt = _rt(request)
    refused = await run_in_threadpool(_decide, rt, who, draft_id, action, fields)
    back = {k: fields[k] for k in ("status", "channel", "age", "flagged") if fields.get(k)}
    if refused:
        query = urlencode({**back, "draft": draft_id, "refused": refused})
        return RedirectResponse(f"/?{query}", status_code=303)
    with rt.sessions() as session:
        following = views.first_pending(session, who.client_id)
    query = urlencode({**back, **({"draft": following} if following else {}),
                       "done": action})
    return RedirectResponse(f"/?{query}", status_code=303)


def _decide(rt: Runtime, who: SignedIn, draft_id: str, action: str,
            fields: dict[str, str]) -> str | None:
    """None when done, else why not (shown to the reviewer)."""
    from worker.pipeline import review
    from worker.pipeline.publish import announce_decision

    reviewer = who.name
    stream = rt.settings.outbound_decisions_stream
    try:
        with rt.sessions.begin() as session:
            if action == "approve":
                draft = review.approve(session, who.client_id, draft_id, rt.embedder,
                                       reviewer=reviewer, announce=stream)
            elif action == "edit":
                draft = review.edit(session, who.client_id, draft_id,
                                    fields.get("text", "")[:20_000], rt.embedder,
                                    reviewer=reviewer, announce=stream)
            else:
                reason = fields.get("reason", "").strip()
                note = fields.get("note", "").strip()
                if reason not in views.REJECT_REASONS:
                    return "Pick a reason for the rejection."
                if reason == "Other" and not note:
                    return "Say why in a few words when the reason is Other."
                text = f"{reason}: {note}" if note else reason
                draft = review.reject(session, who.client_id, draft_id, text, reviewer=reviewer)
            status = draft.status
    except (AgentRuntimeError, LookupError, ValueError) as exc:
        return str(exc)[:300] or "refused"
    rt.call(announce_decision, who.client_id, draft_id, status)
    metrics.REVIEWS.labels(action).inc()
    log.info("review." + action, client_id=who.client_id, draft_id=draft_id, reviewer=reviewer,
             via="console")
    return None
