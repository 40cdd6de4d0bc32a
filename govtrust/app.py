"""The application factory: ``create_app(config)`` composes the enabled components."""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

from flask import Flask, Response, abort, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from trust import SIGNATURE_ALGORITHMS

from .config import Config
from .hub import Hub
from .i18n import current_language, switch_language_url, translate
from .security import SECURITY_HEADERS
from .views.log import bp as log_bp

__all__ = ["create_app", "hub_of"]

MAX_BODY = 32 * 1024 * 1024  # refuse larger requests before parsing (413)


def hub_of(app: Flask) -> Hub:
    return app.extensions["govtrust"]  # type: ignore[no-any-return]


def _secret_key(config: Config) -> str:
    """The cookie-signing key, created once; several workers starting together agree
    on one file (O_EXCL create, then everyone reads what won)."""
    path = config.data_dir / "flask-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    for _ in range(50):  # the winner may still be writing
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty")


def create_app(config: Config | None = None, *, hub: Hub | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(config),
        MAX_CONTENT_LENGTH=MAX_BODY,
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.base_url.startswith("https://"),
    )
    app.extensions["govtrust"] = hub or Hub(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable in JSON
    app.jinja_env.globals.update(
        _=translate, lang=current_language, switch_language_url=switch_language_url
    )

    @app.before_request
    def refuse_oversized() -> None:
        # Refuse by declared length before routing or parsing; Werkzeug still caps
        # streamed bodies without a length at MAX_CONTENT_LENGTH while reading.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413)

    @app.after_request
    def security_headers(response: Response) -> Response:
        h = response.headers
        for name, value in SECURITY_HEADERS:
            h.setdefault(name, value)
        lang = request.args.get("lang")
        if lang in ("zh", "en"):
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax")
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        wants_json = request.accept_mimetypes.best == "application/json" or request.path.startswith(
            ("/api/", "/.well-known/", "/log/")
        )
        if wants_json:
            body = {
                "error": exc.name.lower().replace(" ", "_"),
                "error_description": exc.description,
            }
            return jsonify(body), exc.code
        page = render_template("error.html", code=exc.code, description=exc.description)
        return make_response(page, exc.code)

    import idp.messages  # noqa: F401 - registers the page texts
    from idp.views import bp as idp_bp

    from .admin.views import bp as admin_bp
    from .trust_views import bp as trust_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(trust_bp)
    app.register_blueprint(idp_bp)
    app.register_blueprint(log_bp)

    from seal_service.api import bp as seal_api_bp
    from seal_service.api import tsa_bp

    app.register_blueprint(seal_api_bp)
    app.register_blueprint(tsa_bp)

    from license_wallet.api import bp as license_api_bp
    from license_wallet.api import short_bp as license_status_bp

    app.register_blueprint(license_api_bp)
    app.register_blueprint(license_status_bp)

    from .portals import init_portals

    init_portals(app, base_url=hub_of(app).config.base_url, master_key=hub_of(app).master_key)

    from seal_service.console import bp as seal_console_bp  # after init_portals: shares its OAuth

    app.register_blueprint(seal_console_bp)

    from license_wallet.wallet import bp as wallet_bp  # after init_portals: shares its OAuth

    app.register_blueprint(wallet_bp)

    from verifier.counter import bp as counter_bp

    app.register_blueprint(counter_bp)

    @app.get("/")
    def landing() -> str:
        return render_template("index.html")

    @app.get("/algorithms")
    def algorithms() -> str:
        return render_template("algorithms.html", algorithms=SIGNATURE_ALGORITHMS)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    from idp.fastlane import MachineTokenLane

    hub_ = hub_of(app)
    app.wsgi_app = MachineTokenLane(app.wsgi_app, lambda: hub_.idp.server)  # type: ignore[method-assign]
    return app
