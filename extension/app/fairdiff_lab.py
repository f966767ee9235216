"""FairDiff Lab server: jupyterlab_server's LabServerApp serving the JupyterLab front end built
into extension/app/build (JupyterLab's Python package is not needed).

Run: python3 extension/app/fairdiff_lab.py --ServerApp.port=8888 --ServerApp.root_dir=notebooks
Settings and workspaces go to FAIRDIFF_LAB_STATE (default: a folder beside the build).

Besides the lab, it serves:
  - /api/me and /api/events/subscribe, which JupyterLab 4 asks for and jupyter_server 1.x (Debian's
    1.23) lacks: a single user with every permission, and an event stream with no events, so the
    browser console stays free of 404s;
  - /fairdiff/docs/<path>: the project's own documentation (Markdown and images: README.md,
    docs/, notebooks/README.md, …) read-only, for the Help menu's "fairdiff docs" drive — the
    notebook folder the lab opens (root_dir) does not contain them;
  - pageConfig fairdiffBackend / fairdiffQuick: the backend and mode every kernel the lab starts
    inherits (FAIRDIFF_BACKEND, FAIRDIFF_QUICK, set by `fairdiff start|lab serve --backend --quick`),
    shown in the status bar."""
import json
import os

from jupyter_server.base.handlers import APIHandler, AuthenticatedFileHandler, JupyterHandler
from jupyter_server.base.zmqhandlers import WebSocketMixin
from jupyterlab_server import LabServerApp
from tornado import web
from tornado.websocket import WebSocketHandler

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
STATE = os.environ.get("FAIRDIFF_LAB_STATE", os.path.join(BUILD, "state"))
PROJECT = os.path.dirname(os.path.dirname(HERE))

# The lab is single-user: whoever holds the token may do everything.
IDENTITY = {
    "username": "fairdiff",
    "name": "FairDiff Lab user",
    "display_name": "FairDiff Lab user",
    "initials": "FD",
    "avatar_url": None,
    "color": None,
}

# What /fairdiff/docs serves: documentation files only, never code, data, models or settings.
DOC_SUFFIXES = (".md", ".png", ".svg", ".jpg", ".jpeg", ".gif")
DOC_EXCLUDED_DIRS = {"node_modules", "dist", "scratch", "test-artifacts", "models"}


class CurrentUserHandler(APIHandler):
    """GET /api/me (jupyter_server ≥ 2): who is logged in, and which requested permissions hold."""

    @web.authenticated
    def get(self):
        raw = self.get_argument("permissions", "") or "{}"
        try:
            requested = json.loads(raw)
        except ValueError:
            raise web.HTTPError(400, f"permissions must be JSON, got {raw!r}")
        if not isinstance(requested, dict):
            raise web.HTTPError(400, f"permissions must be an object resource → actions, got {raw!r}")
        self.finish(json.dumps({"identity": IDENTITY, "permissions": requested}))


class EventsSubscribeHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """WS /api/events/subscribe (jupyter_server ≥ 2): jupyter_server 1.x emits no events, so the
    stream stays open and silent (a refused socket makes the front end retry, logging each try)."""

    def set_default_headers(self):
        # JupyterHandler's headers make no sense on a websocket upgrade.
        pass

    async def get(self, *args, **kwargs):
        if self.get_current_user() is None:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def on_message(self, message):
        pass


class ProjectDocsHandler(AuthenticatedFileHandler):
    """GET /fairdiff/docs/<path>: a Markdown file or image of the project, read-only."""

    def validate_absolute_path(self, root, absolute_path):
        relative = os.path.relpath(os.path.realpath(absolute_path), os.path.realpath(root))
        parts = relative.split(os.sep)
        if (
            relative.startswith("..")
            or not relative.lower().endswith(DOC_SUFFIXES)
            or any(p.startswith(".") or p in DOC_EXCLUDED_DIRS for p in parts)
        ):
            raise web.HTTPError(404)
        return super().validate_absolute_path(root, absolute_path)


class FairDiffLab(LabServerApp):
    name = __name__
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False
    app_name = "FairDiff Lab"
    app_version = "0.1.0"
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    app_settings_dir = os.path.join(BUILD, "application_settings")
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    user_settings_dir = os.path.join(STATE, "user_settings")
    workspaces_dir = os.path.join(STATE, "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        # Copied onto the web app's settings after this method returns.
        settings = self.settings
        # No terminals: jupyter_server 1.x's terminal support needs terminado.
        settings["terminals_available"] = False
        page_config = settings.setdefault("page_config_data", {})
        page_config["fairdiffBackend"] = os.environ.get("FAIRDIFF_BACKEND", "").strip() or "auto"
        page_config["fairdiffQuick"] = os.environ.get("FAIRDIFF_QUICK") == "1"

    def initialize_handlers(self):
        super().initialize_handlers()
        self.handlers.extend(
            [
                (r"/api/me", CurrentUserHandler),
                (r"/api/events/subscribe", EventsSubscribeHandler),
                (r"/fairdiff/docs/(.*)", ProjectDocsHandler, {"path": PROJECT}),
            ]
        )


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": FairDiffLab}]


if __name__ == "__main__":
    FairDiffLab.launch_instance()
