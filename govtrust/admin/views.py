"""Registry console: participant list and detail, onboarding and approval,
role and license-type grants, key and certificate registration."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from govtrust.i18n import register, translate
from govtrust.registry import LEVELS, RegistryError, Role, Status
from trust import SIGNATURE_ALGORITHMS, TrustError

from .auth import (
    LoginFailed,
    authenticate,
    check_csrf,
    csrf_token,
    current_admin,
    end_session,
    login_required,
    start_session,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

PURPOSES = (
    "id_token",
    "access_token",
    "seal",
    "license",
    "status_list",
    "trust_list",
    "tsa",
    "log",
)
ACTIONS = ("approve", "activate", "suspend", "reinstate", "revoke")


def _hub() -> Any:
    from flask import current_app

    return current_app.extensions["govtrust"]


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_admin": current_admin}


@bp.before_request
def _csrf() -> None:
    if request.method == "POST":
        check_csrf()


def _actor() -> str:
    return f"admin:{current_admin()}"


def _back(pid: str) -> Response:
    return redirect(url_for("admin.detail", pid=pid), code=303)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        hub = _hub()
        try:
            user = authenticate(
                hub.db,
                request.form.get("username", ""),
                request.form.get("password", ""),
                hub.clock(),
            )
        except LoginFailed:
            error = translate("admin.login.failed")
        else:
            session.clear()  # a new session at login (no fixation)
            session["admin_token"] = start_session(hub.db, user.username, hub.clock())
            session.permanent = False
            target = request.args.get("next", "")
            if not target.startswith("/admin") or target.startswith("//"):
                target = url_for("admin.index")
            return redirect(target, code=303)
    status = 401 if error else 200
    return render_template("admin/login.html", error=error), status


@bp.post("/logout")
def logout() -> Response:
    hub = _hub()
    end_session(hub.db, session.get("admin_token"), hub.clock())
    session.clear()
    return redirect(url_for("landing"), code=303)


@bp.get("/")
@login_required
def index() -> str:
    status = request.args.get("status") or None
    role = request.args.get("role") or None
    try:
        participants = _hub().registry.list(status=status, role=role)
    except ValueError:
        abort(400, description="unknown status or role")
    return render_template(
        "admin/list.html",
        participants=participants,
        statuses=list(Status),
        roles=list(Role),
        status=status,
        role=role,
    )


@bp.get("/participants/<pid>")
@login_required
def detail(pid: str) -> str:
    hub = _hub()
    p = hub.registry.find(pid)
    if p is None:
        abort(404)
    return render_template(
        "admin/detail.html",
        p=p,
        events=hub.registry.events(pid, limit=50),
        roles=list(Role),
        actions=ACTIONS,
        purposes=PURPOSES,
        algorithms=[a.name for a in SIGNATURE_ALGORITHMS if a.name != "ES384"],
    )


@bp.route("/participants/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    hub = _hub()
    error = None
    form = request.form
    if request.method == "POST":
        try:
            p = hub.registry.apply(
                id=form.get("id", "").strip(),
                name_zh=form.get("name_zh", ""),
                name_en=form.get("name_en", ""),
                level=form.get("level", ""),
                division=form.get("division", "").strip() or None,
                uscc=form.get("uscc", "").strip().upper() or None,
                parent_id=form.get("parent", "").strip() or None,
                actor=_actor(),
            )
        except RegistryError as exc:
            error = f"{exc.code}: {exc.message}"
        else:
            flash(translate("admin.flash.applied"))
            return _back(p.id)
    parents = hub.registry.list()
    return render_template(
        "admin/new.html", levels=LEVELS, parents=parents, error=error, form=form
    ), (422 if error else 200)


@bp.post("/participants/<pid>/lifecycle")
@login_required
def lifecycle(pid: str) -> Response:
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400, description="unknown action")
    registry = _hub().registry
    try:
        getattr(registry, action)(pid, actor=_actor(), reason=request.form.get("reason", ""))
    except RegistryError as exc:
        flash(f"{exc.code}: {exc.message}", "error")
    return _back(pid)


@bp.post("/participants/<pid>/roles")
@login_required
def roles(pid: str) -> Response:
    registry = _hub().registry
    role = request.form.get("role", "")
    try:
        if request.form.get("op") == "revoke":
            registry.revoke_role(pid, role, actor=_actor())
        else:
            registry.grant_role(pid, role, actor=_actor())
    except (RegistryError, ValueError) as exc:
        flash(f"{getattr(exc, 'code', 'invalid_role')}: {exc}", "error")
    return _back(pid)


@bp.post("/participants/<pid>/license-types")
@login_required
def license_types(pid: str) -> Response:
    registry = _hub().registry
    code = request.form.get("license_type", "")
    try:
        if request.form.get("op") == "revoke":
            registry.revoke_license_type(pid, code, actor=_actor())
        else:
            registry.grant_license_type(pid, code, actor=_actor())
    except RegistryError as exc:
        flash(f"{exc.code}: {exc.message}", "error")
    return _back(pid)


@bp.post("/participants/<pid>/keys")
@login_required
def keys(pid: str) -> Response:
    registry = _hub().registry
    material = request.form.get("material", "").strip()
    try:
        kwargs: dict[str, Any] = {}
        if material.startswith("{"):
            kwargs["jwk"] = json.loads(material)
        elif "BEGIN CERTIFICATE" in material:
            kwargs["chain_pem"] = material
        else:
            kwargs["public_key_pem"] = material.encode()
        registry.register_key(
            pid,
            purpose=request.form.get("purpose", ""),
            algorithm=request.form.get("algorithm", ""),
            actor=_actor(),
            **kwargs,
        )
        flash(translate("admin.flash.key_registered"))
    except (TrustError, ValueError) as exc:
        flash(f"{getattr(exc, 'code', 'invalid_key')}: {exc}", "error")
    return _back(pid)


@bp.post("/participants/<pid>/status-list")
@login_required
def status_list(pid: str) -> Response:
    try:
        _hub().registry.set_status_list_uri(
            pid, request.form.get("uri", "").strip() or None, actor=_actor()
        )
    except RegistryError as exc:
        flash(f"{exc.code}: {exc.message}", "error")
    return _back(pid)


register(
    {
        "admin.title": {"zh": "参与方管理", "en": "Participant registry"},
        "admin.login": {"zh": "管理员登录", "en": "Administrator sign-in"},
        "admin.username": {"zh": "用户名", "en": "Username"},
        "admin.password": {"zh": "密码", "en": "Password"},
        "admin.signin": {"zh": "登录", "en": "Sign in"},
        "admin.signout": {"zh": "退出", "en": "Sign out"},
        "admin.login.failed": {
            "zh": "用户名或密码错误，或尝试过于频繁，请稍后再试。",
            "en": "Wrong username or password, or too many attempts; try again shortly.",
        },
        "admin.new": {"zh": "新参与方入驻申请", "en": "Onboard a participant"},
        "admin.filter": {"zh": "筛选", "en": "Filter"},
        "admin.all": {"zh": "全部", "en": "All"},
        "admin.id": {"zh": "标识", "en": "ID"},
        "admin.name": {"zh": "名称", "en": "Name"},
        "admin.name_zh": {"zh": "中文名称", "en": "Chinese name"},
        "admin.name_en": {"zh": "英文名称", "en": "English name"},
        "admin.level": {"zh": "层级", "en": "Level"},
        "admin.division": {"zh": "行政区划代码（GB/T 2260）", "en": "Division code (GB/T 2260)"},
        "admin.uscc": {"zh": "统一社会信用代码", "en": "Unified social credit code"},
        "admin.parent": {"zh": "上级单位", "en": "Parent"},
        "admin.status": {"zh": "状态", "en": "Status"},
        "admin.roles": {"zh": "角色", "en": "Roles"},
        "admin.license_types": {"zh": "授权证照类型", "en": "Authorised license types"},
        "admin.keys": {"zh": "密钥与证书", "en": "Keys and certificates"},
        "admin.events": {"zh": "变更记录", "en": "History"},
        "admin.actor": {"zh": "操作人", "en": "Actor"},
        "admin.time": {"zh": "时间", "en": "Time"},
        "admin.action": {"zh": "操作", "en": "Action"},
        "admin.reason": {"zh": "原因", "en": "Reason"},
        "admin.grant": {"zh": "授予", "en": "Grant"},
        "admin.revoke": {"zh": "撤销", "en": "Revoke"},
        "admin.submit": {"zh": "提交申请", "en": "Submit"},
        "admin.register_key": {"zh": "登记公钥/证书", "en": "Register key or certificate"},
        "admin.material": {
            "zh": "PEM 公钥、JWK 或证书链",
            "en": "PEM public key, JWK or certificate chain",
        },
        "admin.purpose": {"zh": "用途", "en": "Purpose"},
        "admin.algorithm": {"zh": "算法", "en": "Algorithm"},
        "admin.status_list": {"zh": "状态列表地址", "en": "Status list location"},
        "admin.save": {"zh": "保存", "en": "Save"},
        "admin.none": {"zh": "无", "en": "none"},
        "admin.flash.applied": {
            "zh": "申请已提交，等待审核。",
            "en": "Application recorded; awaiting approval.",
        },
        "admin.flash.key_registered": {"zh": "密钥已登记。", "en": "Key registered."},
        "status.applied": {"zh": "已申请", "en": "applied"},
        "status.approved": {"zh": "已批准", "en": "approved"},
        "status.active": {"zh": "有效", "en": "active"},
        "status.suspended": {"zh": "已暂停", "en": "suspended"},
        "status.revoked": {"zh": "已撤销", "en": "revoked"},
        "action.approve": {"zh": "批准", "en": "Approve"},
        "action.activate": {"zh": "启用", "en": "Activate"},
        "action.suspend": {"zh": "暂停", "en": "Suspend"},
        "action.reinstate": {"zh": "恢复", "en": "Reinstate"},
        "action.revoke": {"zh": "撤销", "en": "Revoke"},
        "role.relying_party": {"zh": "依赖方（OIDC 客户端）", "en": "Relying party (OIDC client)"},
        "role.license_issuer": {"zh": "证照签发方", "en": "License issuer"},
        "role.seal_holder": {"zh": "印章持有方", "en": "Seal holder"},
        "role.seal_maker": {"zh": "制章者", "en": "Seal maker"},
        "role.tsa": {"zh": "时间戳服务", "en": "Time-stamping authority"},
        "level.national": {"zh": "国家级", "en": "national"},
        "level.provincial": {"zh": "省级", "en": "provincial"},
        "level.department": {"zh": "国务院部门", "en": "State Council department"},
        "level.county": {"zh": "县级", "en": "county"},
        "level.agency": {"zh": "机构", "en": "agency"},
    }
)
