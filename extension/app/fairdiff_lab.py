"""FairDiff Lab server: jupyterlab_server's LabServerApp serving the JupyterLab front end built
into extension/app/build (JupyterLab's Python package is not needed).

Run: python3 extension/app/fairdiff_lab.py --ServerApp.port=8888 --ServerApp.root_dir=notebooks
Settings and workspaces go to FAIRDIFF_LAB_STATE (default: a folder beside the build)."""
import os

from jupyterlab_server import LabServerApp

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
STATE = os.environ.get("FAIRDIFF_LAB_STATE", os.path.join(BUILD, "state"))


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
        # No terminals: jupyter_server 1.x's terminal support needs terminado.
        self.serverapp.web_app.settings["terminals_available"] = False


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": FairDiffLab}]


if __name__ == "__main__":
    FairDiffLab.launch_instance()
