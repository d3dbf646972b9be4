"""Schema-level checks of the deployable infrastructure in infra/ (no Docker or Kubernetes here):
the worker image's Dockerfile, the local Compose stack, the KubeRay RayCluster and the Prefect
Kubernetes work-pool job template. Each check is one that a plausible edit could break."""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from synth.flows import deploy

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
DOCKERFILE = INFRA / "Dockerfile"
COMPOSE = INFRA / "compose.yaml"
RAYCLUSTER = INFRA / "k8s" / "raycluster.yaml"
JOB_TEMPLATE = INFRA / "k8s" / "prefect-k8s-job-template.json"

IMAGE = "synth-worker:latest"
POOL = deploy.POOL  # "synth-pool"
SECRET_NAME = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.I)
# a bare reference, or one that fails when unset (`${X:?msg}`); never a default value for a secret
SECRET_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}")
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
DURATION = re.compile(r"(\d+(\.\d+)?(us|ms|s|m|h))+")
# Prefect's own placeholder syntax (prefect.utilities.templating.PLACEHOLDER_CAPTURE_REGEX)
PLACEHOLDER = re.compile(r"{{\s*([\w\.\-\[\]$]+)\s*}}")


# --------------------------------------------------------------------------------------------
# helpers


DOCKER_KEYWORDS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
    "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}  # fmt: skip


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, line continuations joined."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and buf):
            continue  # comments (and parser directives); blank lines inside a continuation
        if not line:
            continue
        if line.endswith("\\"):
            buf += line[:-1].rstrip() + " "
            continue
        keyword, _, args = (buf + line).strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        buf = ""
    assert not buf.strip(), "the Dockerfile ends inside a line continuation"
    return out


@cache
def dockerfile() -> tuple[tuple[str, str], ...]:
    return tuple(parse_dockerfile(DOCKERFILE.read_text()))


def instructions(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile() if kw == keyword]


def shell_commands(run_args: str) -> list[list[str]]:
    """Split a shell-form RUN into simple commands (on &&, ||, ; and |), each tokenized."""
    return [shlex.split(part) for part in re.split(r"&&|\|\||;|\|", run_args) if part.strip()]


def docker_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in instructions("ENV"):
        tokens = shlex.split(args)
        if "=" not in tokens[0]:  # legacy `ENV KEY value`
            env[tokens[0]] = " ".join(tokens[1:])
            continue
        for token in tokens:
            key, sep, value = token.partition("=")
            assert sep, f"malformed ENV token {token!r}"
            env[key] = value
    return env


def bootstrap_apt_packages() -> list[str]:
    m = re.search(r'^APT_PACKAGES="([^"]*)"', (INFRA / "bootstrap.sh").read_text(), re.M)
    assert m, "infra/bootstrap.sh no longer defines APT_PACKAGES"
    return m.group(1).split()


def pip_pins() -> dict[str, str]:
    """name -> version of every `name==version` the Dockerfile pip-installs."""
    pins = {}
    for args in instructions("RUN"):
        for cmd in shell_commands(args):
            if "pip" in cmd and "install" in cmd:
                for token in cmd:
                    name, sep, version = token.partition("==")
                    if sep:
                        pins[name.lower()] = version
    return pins


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command_of(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def with_defaults(value: str) -> str:
    """Compose interpolation with every variable unset: `${X:-d}`/`${X-d}` -> d."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?[^}]*\}", lambda m: m.group(1) or "", value)


def flag_value(cmd: str, flag: str) -> str | None:
    """Value of `--flag=v`, `-flag=v` or `--flag v` in a command line."""
    tokens = shlex.split(cmd)
    for i, token in enumerate(tokens):
        if token.startswith(flag + "="):
            return token.split("=", 1)[1]
        if token == flag and i + 1 < len(tokens):
            return tokens[i + 1]
    return None


def valid_port(value) -> bool:
    try:
        lo, _, hi = str(value).partition("-")
        return all(1 <= int(p) <= 65535 for p in (lo, hi or lo)) and int(lo) <= int(hi or lo)
    except ValueError:
        return False


_QUANTITY = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
             "Ti": 2**40}  # fmt: skip


def quantity(value) -> float:
    """A Kubernetes resource quantity ('500m', '4', '12Gi') as a number."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", str(value))
    assert m and m.group(2) in _QUANTITY, f"not a Kubernetes quantity: {value!r}"
    return float(m.group(1)) * _QUANTITY[m.group(2)]


def check_resources(resources: dict, where: str) -> None:
    for kind in ("requests", "limits"):
        assert set(resources.get(kind, {})) >= {"cpu", "memory"}, f"{where}: {kind} need cpu and memory"
    for res in ("cpu", "memory"):
        assert quantity(resources["requests"][res]) <= quantity(resources["limits"][res]), (
            f"{where}: {res} request > limit"
        )
    assert quantity(resources["limits"]["memory"]) >= 2**30, f"{where}: Blender needs at least 1Gi"


def image_uid() -> int:
    return int(instructions("USER")[-1].split(":")[0])


@cache
def raycluster() -> dict:
    docs = [d for d in yaml.safe_load_all(RAYCLUSTER.read_text()) if d]
    assert len(docs) == 1
    return docs[0]


@cache
def job_template() -> dict:
    return json.loads(JOB_TEMPLATE.read_text())


# --------------------------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_parses_into_known_instructions():
    kws = [kw for kw, _ in dockerfile()]
    assert kws and set(kws) <= DOCKER_KEYWORDS, set(kws) - DOCKER_KEYWORDS
    assert [kw for kw in kws if kw != "ARG"][0] == "FROM"
    assert parse_dockerfile('# c\nRUN a \\\n  # inner\n  && b\nCMD ["x"]\n') == [("RUN", "a && b"), ("CMD", '["x"]')]


def test_dockerfile_base_image_is_python_311():
    (base,) = instructions("FROM")  # one stage
    image = base.split()[-1] if " AS " not in base.upper() else base.split()[0]
    assert re.fullmatch(r"python:3\.11([.-][\w.-]+)?", image), image


def test_dockerfile_apt_packages_match_bootstrap():
    installed = []
    for args in instructions("RUN"):
        for cmd in shell_commands(args):
            if cmd[:1] in (["apt-get"], ["apt"]) and "install" in cmd:
                installed += [t for t in cmd[cmd.index("install") + 1 :] if not t.startswith("-")]
    assert installed, "no apt-get install in the Dockerfile"
    assert sorted(installed) == sorted(bootstrap_apt_packages())
    assert len(installed) == len(set(installed))


def test_dockerfile_installs_the_project_and_pinned_orchestration():
    project = False
    for args in instructions("RUN"):
        for cmd in shell_commands(args):
            if "pip" in cmd and "install" in cmd:
                rest = cmd[cmd.index("install") + 1 :]
                project |= ("." in rest or ".[dev]" in rest) and "--no-deps" not in rest
    assert project, "the Dockerfile never runs `pip install [-e] .` with the project's dependencies"
    pins = pip_pins()
    for name in ("prefect", "prefect-ray", "ray[default]"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", pins.get(name, "")), f"{name} is not pinned"
    prefect_yaml = ROOT / "prefect.yaml"
    if prefect_yaml.exists():
        declared = yaml.safe_load(prefect_yaml.read_text()).get("prefect-version")
        assert declared in (None, pins["prefect"]), f"prefect.yaml says {declared}, the image has {pins['prefect']}"


def test_dockerfile_makes_infinigen_environment_as_bootstrap_does():
    """The default ``--assets infinigen`` needs .venv-infinigen where the sampler looks for it
    (next to the packages), installed as bootstrap.sh installs it, and the image's asset cache."""
    from synth.backends.procedural.infinigen_assets import VENV_PYTHON

    workdir = instructions("WORKDIR")[-1].strip()
    venv = f"{workdir}/{VENV_PYTHON.parent.parent.name}"
    commands = [cmd for args in instructions("RUN") for cmd in shell_commands(args)]
    image = [c for c in commands if c[:1] == [f"{venv}/bin/python"] and "install" in c]
    script = (INFRA / "bootstrap.sh").read_text()
    boot = [shlex.split(line) for line in script.splitlines() if line.strip().startswith(".venv-infinigen/bin/python")]
    boot = [c for c in boot if "install" in c]
    strip = lambda c: [t for t in c[1:] if t != "-q"]  # noqa: E731
    assert image and [strip(c) for c in image] == [strip(c) for c in boot], (image, boot)
    assert ["python", "-m", "venv", venv] in commands
    assert ["python", "-m", "synth.backends.procedural.infinigen_assets", "4"] in commands  # default --asset-variants
    from synth.backends.procedural.settings import ProceduralSource

    assert ProceduralSource.model_fields["asset_variants"].default == 4


def test_dockerfile_pins_match_the_development_environment():
    from importlib.metadata import PackageNotFoundError, version

    pins = pip_pins()
    for dist, pin in (("prefect", "prefect"), ("prefect-ray", "prefect-ray"), ("ray", "ray[default]")):
        try:
            installed = version(dist)
        except PackageNotFoundError:
            continue
        assert installed == pins[pin], f"{dist}: tests run {installed}, the image ships {pins[pin]}"


def test_dockerfile_copies_every_package_and_only_existing_paths():
    copied = set()
    for args in instructions("COPY") + instructions("ADD"):
        tokens = [t for t in shlex.split(args) if not t.startswith("--")]
        for src in tokens[:-1]:
            src = src.removeprefix("./").rstrip("/")
            assert (ROOT / src).exists(), f"COPY {src}: no such path in the repository"
            copied.add(src)
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    needed = {p.rstrip("*").rstrip(".") for p in find["include"]} | {"pyproject.toml", "README.md", "prefect.yaml"}
    if "." in copied:  # the whole build context: the local .venv and data/ must be ignored
        ignore = next((f for f in (INFRA / "Dockerfile.dockerignore", ROOT / ".dockerignore") if f.exists()), None)
        assert ignore and {".venv", "data"} <= {line.strip("/ ") for line in ignore.read_text().splitlines()}
    else:
        assert needed <= copied, f"not copied into the image: {needed - copied}"


def test_dockerfile_environment_and_workdir():
    env = docker_env()
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("PREFECT_HOME", "").startswith("/")
    workdir = instructions("WORKDIR")[-1]
    # prefect.yaml's pull step runs flows from $SYNTH_HOME: it must be where the code is
    assert env.get("SYNTH_HOME") == workdir
    prefect_yaml = ROOT / "prefect.yaml"
    if prefect_yaml.exists():
        spec = yaml.safe_load(prefect_yaml.read_text())
        steps = json.dumps([spec.get("build", []), spec.get("pull", [])])
        assert "SYNTH_HOME" in steps or workdir in steps, "prefect.yaml's pull step does not find the image's code"


def test_dockerfile_runs_as_a_numeric_non_root_user():
    users = instructions("USER")
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, f"USER {users[-1]}: Kubernetes runAsNonRoot needs a numeric uid"
    runs = " ".join(instructions("RUN"))
    assert re.search(rf"useradd\b.*--uid {user}\b", runs), f"no user with uid {user} is created"
    # nothing after the final USER switches back to root
    last_user = max(i for i, (kw, _) in enumerate(dockerfile()) if kw == "USER")
    assert all(kw not in ("RUN", "COPY", "ADD") for kw, _ in dockerfile()[last_user + 1 :])


def test_dockerfile_default_command_is_a_prefect_worker_on_synth_pool():
    assert not instructions("ENTRYPOINT"), "an ENTRYPOINT would swallow Prefect's k8s args and KubeRay's command"
    cmd = json.loads(instructions("CMD")[-1])  # exec form
    assert cmd[:3] == ["prefect", "worker", "start"]
    assert flag_value(shlex.join(cmd), "--pool") == POOL


# --------------------------------------------------------------------------------------------
# compose.yaml


def test_compose_services_have_an_image_or_a_build_that_exists():
    assert {"prefect-server", "worker", "seaweedfs", "ray-head", "deploy"} <= set(services())
    for name, svc in services().items():
        assert svc.get("image") or svc.get("build"), name
        build = svc.get("build")
        if build:
            build = {"context": build} if isinstance(build, str) else build
            context = (COMPOSE.parent / build.get("context", ".")).resolve()
            assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE, name
        if svc.get("image"):
            assert with_defaults(svc["image"]) == IMAGE, f"{name}: {svc['image']}"


def test_compose_depends_on_and_healthchecks():
    svcs = services()
    for name, svc in svcs.items():
        deps = svc.get("depends_on", {})
        deps = {d: {"condition": "service_started"} for d in deps} if isinstance(deps, list) else deps
        for target, spec in deps.items():
            assert target in svcs and target != name, f"{name} depends on unknown service {target}"
            cond = spec.get("condition", "service_started")
            assert cond in ("service_started", "service_healthy", "service_completed_successfully")
            if cond == "service_healthy":
                assert svcs[target].get("healthcheck"), f"{name} waits for {target} to be healthy: no healthcheck"
        hc = svc.get("healthcheck")
        if hc is None:
            continue
        assert not hc.get("disable"), name
        test = hc["test"]
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1 and all(isinstance(t, str) for t in test), name
        else:
            assert isinstance(test, str) and test.strip(), name
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in hc:
                assert DURATION.fullmatch(str(hc[key])), f"{name}: {key}={hc[key]!r}"
        if "retries" in hc:
            assert isinstance(hc["retries"], int) and hc["retries"] > 0, name


def test_compose_ports_are_valid_and_local():
    for name, svc in services().items():
        for port in svc.get("ports", []):
            assert isinstance(port, (str, int, dict)), f"{name}: {port!r}"
            if isinstance(port, dict):
                assert valid_port(port["target"]) and valid_port(port.get("published", port["target"])), name
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port} is not bound to 127.0.0.1"
                continue
            spec = str(port).split("/")[0]
            assert str(port).partition("/")[2] in ("", "tcp", "udp"), f"{name}: {port!r}"
            parts = spec.rsplit(":", 2)
            assert all(valid_port(p) for p in parts[-2:]), f"{name}: {port!r}"
            assert len(parts) == 3 and ipaddress.ip_address(parts[0]).is_loopback, f"{name}: {port!r} not local"


def test_compose_uses_declared_named_volumes_and_no_host_access():
    declared = set(compose().get("volumes") or {})
    for name, svc in services().items():
        assert svc.get("network_mode") != "host" and svc.get("pid") != "host", name
        assert not svc.get("privileged"), name
        for vol in svc.get("volumes", []):
            source = vol.get("source") if isinstance(vol, dict) else vol.split(":")[0]
            assert source in declared, f"{name}: {vol!r} is not a declared named volume"


def test_compose_has_no_hard_coded_secrets():
    variables = set(COMPOSE_VAR.findall(COMPOSE.read_text()))
    readme = (INFRA / "README.md").read_text()
    for name, svc in services().items():
        for key, value in env_of(svc).items():
            if SECRET_NAME.search(key):
                assert SECRET_REF.fullmatch(value), f"{name}: {key} must be a ${{...}} reference, not a value"
    for var in variables:
        assert var in readme, f"infra/README.md does not document ${{{var}}}"


def test_compose_prefect_server_worker_and_deploy():
    svcs = services()
    server = svcs["prefect-server"]
    cmd = command_of(server)
    assert cmd.startswith("prefect server start") and flag_value(cmd, "--host") == "0.0.0.0"
    port = int(flag_value(cmd, "--port") or 4200)
    assert env_of(server).get("PREFECT_SERVER_ANALYTICS_ENABLED") == "false"
    assert "/api/health" in json.dumps(server["healthcheck"]["test"]) and str(port) in json.dumps(server["healthcheck"])
    for name in ("worker", "deploy"):
        url = urlsplit(env_of(svcs[name])["PREFECT_API_URL"])
        assert (url.scheme, url.hostname, url.port, url.path) == ("http", "prefect-server", port, "/api"), name
        assert svcs[name]["depends_on"]["prefect-server"]["condition"] == "service_healthy", name
    assert f"prefect work-pool create {POOL} --type process" in command_of(svcs["worker"])
    assert re.search(rf"prefect worker start --pool {POOL}\b", command_of(svcs["worker"]))
    assert command_of(svcs["deploy"]) == "synth deploy"  # the pool and every deployment (synth/flows/deploy.py)
    assert svcs["deploy"].get("restart") in ("no", None), "deploy is one-shot"


def test_compose_seaweedfs_and_the_worker_agree():
    svcs = services()
    weed = svcs["seaweedfs"]
    cmd = command_of(weed)
    assert cmd.startswith("weed mini") and flag_value(cmd, "-master.telemetry") == "false"
    ports = {}
    for comp in ("master", "volume", "filer", "s3"):
        for flag in (f"-{comp}.port", f"-{comp}.port.grpc"):
            value = flag_value(cmd, flag)
            assert value and valid_port(value), f"seaweedfs: {flag} must be explicit"
            ports[flag] = int(value)
    assert len(set(ports.values())) == len(ports), "seaweedfs: two components share a port"
    endpoint = urlsplit(env_of(svcs["worker"])["AWS_ENDPOINT_URL"])
    assert (endpoint.hostname, endpoint.port) == ("seaweedfs", ports["-s3.port"])
    assert any(str(p).split(":")[-1] == str(ports["-s3.port"]) for p in weed.get("ports", []))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the same identity on both sides
        assert COMPOSE_VAR.findall(env_of(weed)[key]) == COMPOSE_VAR.findall(env_of(svcs["worker"])[key]) == [key]


def test_compose_ray_head():
    svcs = services()
    head = svcs["ray-head"]
    cmd = command_of(head)
    assert cmd.startswith("ray start") and "--head" in cmd.split() and "--block" in cmd.split()
    assert flag_value(cmd, "--include-dashboard") == "false"
    assert flag_value(cmd, "--ray-client-server-port") == "10001"
    for name in ("ray-head", "worker"):  # Ray 2.60 token auth: client and cluster share the token
        assert env_of(svcs[name]).get("RAY_AUTH_MODE") == "token", name
    assert env_of(head)["RAY_AUTH_TOKEN"] == env_of(svcs["worker"])["RAY_AUTH_TOKEN"]


# --------------------------------------------------------------------------------------------
# KubeRay RayCluster


def ray_pod_specs() -> list[tuple[str, dict, dict]]:
    spec = raycluster()["spec"]
    groups = [("head", spec["headGroupSpec"])] + [(g["groupName"], g) for g in spec.get("workerGroupSpecs", [])]
    return [(name, group, group["template"]["spec"]) for name, group in groups]


def test_raycluster_kind_and_version():
    rc = raycluster()
    assert rc["apiVersion"] == "ray.io/v1" and rc["kind"] == "RayCluster"
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", rc["metadata"]["name"])
    assert rc["spec"]["rayVersion"] == pip_pins()["ray[default]"], "rayVersion must equal the image's Ray"


def test_raycluster_groups_have_containers_images_and_resources():
    head_params = raycluster()["spec"]["headGroupSpec"]["rayStartParams"]
    assert {"dashboard-host", "num-cpus"} <= set(head_params)
    assert raycluster()["spec"].get("workerGroupSpecs"), "no worker group"
    for name, group, pod in ray_pod_specs():
        params = group.get("rayStartParams", {})
        assert all(isinstance(v, str) for v in params.values()), f"{name}: rayStartParams values must be strings"
        containers = pod["containers"]
        assert containers, name
        for c in containers:
            assert c.get("name") and c.get("image") == IMAGE, f"{name}: image {c.get('image')!r}"
            check_resources(c["resources"], f"{name}/{c['name']}")
        assert pod.get("securityContext", {}).get("runAsUser") == image_uid(), f"{name}: not the image's user"


def test_raycluster_worker_group_replicas():
    for group in raycluster()["spec"]["workerGroupSpecs"]:
        counts = [group.get(k) for k in ("minReplicas", "replicas", "maxReplicas")]
        assert all(isinstance(n, int) and n >= 0 for n in counts), group["groupName"]
        assert counts[0] <= counts[1] <= counts[2], f"{group['groupName']}: min <= replicas <= max fails: {counts}"
        assert counts[2] >= 1


def test_raycluster_client_service_matches_the_documented_address():
    head = raycluster()["spec"]["headGroupSpec"]
    port = int(head["rayStartParams"].get("ray-client-server-port", 10001))
    (container,) = head["template"]["spec"]["containers"]
    assert {"name": "client", "containerPort": port} in [
        {"name": p.get("name"), "containerPort": p.get("containerPort")} for p in container["ports"]
    ]
    default_service = f"{raycluster()['metadata']['name']}-head-svc"
    service = head.get("headService", {}).get("metadata", {}).get("name") or default_service
    k8s_docs = (INFRA / "README.md").read_text().partition("## Kubernetes")[2]
    assert f"ray://{service}:{port}" in k8s_docs, "infra/README.md's Kubernetes section names another Ray address"
    secret = raycluster()["spec"].get("authOptions", {}).get("secretName")
    assert secret == job_template()["variables"]["properties"]["ray_auth_secret_name"]["default"]


# --------------------------------------------------------------------------------------------
# Prefect Kubernetes work-pool base job template


def test_job_template_structure_and_placeholders():
    tpl = job_template()
    assert set(tpl) == {"job_configuration", "variables"}
    used = set()
    for value in tpl["job_configuration"].values():  # as Prefect's server-side check does
        used |= set(PLACEHOLDER.findall(json.dumps(value)))
    declared = set(tpl["variables"]["properties"])
    assert used <= declared, f"placeholders without a variable: {used - declared}"
    assert declared <= used, f"variables that nothing uses: {declared - used}"
    assert set(tpl["variables"].get("required", [])) <= declared


def test_job_template_passes_prefects_own_validation():
    pytest.importorskip("prefect")
    from prefect.server.schemas.actions import WorkPoolCreate

    WorkPoolCreate(name="synth-k8s", type="kubernetes", base_job_template=job_template())


def test_job_template_variables_are_a_valid_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    variables = job_template()["variables"]
    jsonschema.Draft7Validator.check_schema(variables)
    defaults = {k: p["default"] for k, p in variables["properties"].items() if "default" in p}
    jsonschema.Draft7Validator(variables).validate(defaults)
    with pytest.raises(jsonschema.ValidationError):  # patterns catch a malformed quantity at deploy time
        jsonschema.Draft7Validator(variables).validate({**defaults, "cpu_request": "lots"})
    for res in ("cpu", "memory"):
        assert quantity(defaults[f"{res}_request"]) <= quantity(defaults[f"{res}_limit"]), (
            f"default {res} request > limit"
        )


def test_job_template_keeps_prefect_kubernetes_default_template():
    pytest.importorskip("prefect")
    from importlib.resources import files

    path = files("prefect.server.api.collections_data") / "views" / "aggregate-worker-metadata.json"
    default = json.loads(path.read_text())["prefect-kubernetes"]["kubernetes"]["default_base_job_configuration"]
    ours = job_template()
    assert set(default["job_configuration"]) <= set(ours["job_configuration"])
    for name, prop in default["variables"]["properties"].items():
        assert name in ours["variables"]["properties"], f"variable {name} of the default template is missing"
        assert ours["variables"]["properties"][name].get("type") == prop.get("type"), name
    (default_container,) = default["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"]
    (container,) = ours["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"]
    assert set(default_container) <= set(container)
    assert container["image"] == "{{ image }}" and container["args"] == "{{ command }}"


def test_job_template_renders_to_a_complete_job():
    pytest.importorskip("prefect")
    from prefect.utilities.templating import apply_values

    tpl = job_template()
    props = tpl["variables"]["properties"]
    values = {k: p["default"] for k, p in props.items() if "default" in p}
    values |= {
        "image": "registry.example.com/synth-worker:0.1.0",
        "name": "sat-dynamic-run",
        "cpu_request": "3",
        "command": "prefect flow-run execute",
        "env": {"SYNTH_CACHE": "/tmp/cache"},
        "labels": {"a": "b"},
    }
    rendered = apply_values(tpl["job_configuration"], values)
    job = rendered["job_manifest"]
    assert "{{" not in json.dumps(rendered), "a placeholder survived rendering"
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    assert job["metadata"]["namespace"] == rendered["namespace"] == "synth"
    assert job["metadata"]["generateName"] == "sat-dynamic-run-"
    assert isinstance(job["spec"]["ttlSecondsAfterFinished"], int)
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and "serviceAccountName" not in pod  # unset -> dropped, not "None"
    assert pod["securityContext"]["runAsUser"] == image_uid()
    (container,) = pod["containers"]
    assert container["image"] == values["image"] and container["resources"]["requests"]["cpu"] == "3"
    check_resources(container["resources"], "flow-run job")
    env = container["env"]
    names = [e["name"] for e in env]
    assert len(names) == len(set(names))
    # the worker prepends its own PREFECT_API_URL and drops template entries of the same name
    assert "PREFECT_API_URL" not in names
    by_name = {e["name"]: e for e in env}
    for e in env:
        assert ("value" in e) != ("valueFrom" in e), e
        if SECRET_NAME.search(e["name"]):
            assert "valueFrom" in e, f"{e['name']} must come from a Secret"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        ref = by_name[key]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": values["s3_secret_name"], "key": key}, ref  # required, not optional
    assert by_name["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == values["ray_auth_secret_name"]
    assert by_name["RAY_AUTH_MODE"]["value"] == "token"
