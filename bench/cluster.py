"""A local cluster: N web nodes and M workers behind nginx, one beat, one PostgreSQL and Redis.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python -m bench.cluster smoke
    DATABASE_URL=postgres://… REDIS_URL=redis://… python -m bench.cluster up

Everything runs on this machine, in production mode (DJANGO_DEBUG=0), each
process group in its own session: ``--web`` gunicorn nodes
(``deploy/gunicorn.conf.py``) on their own ports, ``--workers`` Celery workers
(each exporting its metrics on its own port), exactly one beat
(DatabaseScheduler), and Debian's nginx (``apt-get install nginx-light``) in
front of the web nodes, setting ``X-Forwarded-For`` (``TRUSTED_PROXY_COUNT=1``)
and passing or making ``X-Request-ID``. PostgreSQL and Redis are the ones
``DATABASE_URL`` and ``REDIS_URL`` name (the database is migrated first); a
random cache key prefix keeps each run's counters apart. Logs, static files,
uploads and the metrics folders live under ``var/cluster/``.

``up`` starts the cluster and waits for Ctrl-C. ``smoke`` starts it, checks what
running on more than one node needs, prints a table and stops it:

- a session made on node A works on node B (sessions in the shared database);
- a rate limit is shared: 40 anonymous API requests from one client address,
  alternating between nodes, get exactly ``--anon-rate`` answers before 429;
- tasks sent from anywhere run once: N pings, counted on every worker's exporter;
- beat runs once: every periodic task beat sent ran exactly once, summed over
  all workers;
- a graceful restart loses no request: requests keep flowing through nginx
  while each gunicorn master gets SIGHUP (new workers, old ones finish), and
  every answer is a 200;
- request ids: nginx's id reaches the answer, and an incoming sane one is kept.

It measures nothing: throughput figures belong to ``make bench``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "var" / "cluster"
PYTHON = sys.executable
SMOKE_EMAIL = "cluster-smoke@citydesk.local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- HTTP without a client library: explicit cookies and headers ------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or [""])[0]

    def cookies(self) -> dict[str, str]:
        found = {}
        for line in self.headers.get("set-cookie", []):
            name, _, rest = line.partition("=")
            found[name.strip()] = rest.split(";", 1)[0]
        return found


def request(port: int, method: str, path: str, *, headers=None, body: bytes | None = None) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        collected: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            collected.setdefault(name.lower(), []).append(value)
        return Answer(response.status, collected, response.read())
    finally:
        conn.close()


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# --- the cluster ------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int = 0  # web: gunicorn's port; worker: its metrics port
    process: subprocess.Popen | None = None
    log: Path | None = None

    def start(self) -> None:
        self.log = STATE / "logs" / f"{self.name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def started(self) -> subprocess.Popen:
        """The process (after start())."""
        if self.process is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.process

    @property
    def log_file(self) -> Path:
        """Where the process writes its output (after start())."""
        if self.log is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.log

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> None:
        if not self.alive():
            return
        os.killpg(self.started.pid, sig)
        try:
            self.started.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.started.pid, signal.SIGKILL)
            self.started.wait(timeout=10)


@dataclass
class Cluster:
    database_url: str
    redis_url: str
    web_count: int = 2
    worker_count: int = 2
    proxy_port: int = 0
    anon_rate: int = 30
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    nodes: list[Node] = field(default_factory=list)
    beat: bool = True
    # On top of each web node's environment (bench/bench_scaleout.py: the gunicorn shape, the bot token).
    web_env: dict[str, str] = field(default_factory=dict)

    def environment(self, **extra: str) -> dict[str, str]:
        ours = ("DJANGO_", "PYTEST", "CELERY_", "PROMETHEUS_", "WORKER_METRICS_", "LOG_", "METRICS_", "SENTRY_")
        keep = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        return {
            **keep,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "SITE_URL": f"http://127.0.0.1:{self.proxy_port}",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": self.redis_url,
            "CACHE_KEY_PREFIX": self.cache_prefix,
            "TRUSTED_PROXY_COUNT": "1",
            "ROBOKASSA_LOGIN": "cluster-shop",
            "ROBOKASSA_PASSWORD1": self.secret_key[:24] + "1",
            "ROBOKASSA_PASSWORD2": self.secret_key[:24] + "2",
            "ROBOKASSA_IS_TEST": "1",
            "STATIC_ROOT": str(STATE / "static"),
            "MEDIA_ROOT": str(STATE / "media"),  # one folder: the nodes share it as they would share S3
            "METRICS_TOKEN": self.token,
            "LOG_FORMAT": "json",
            "API_THROTTLE_ANON": f"{self.anon_rate}/min",
            "ACCOUNT_EMAIL_VERIFICATION": "none",
            **extra,
        }

    def __post_init__(self):
        self.secret_key = secrets.token_urlsafe(50)
        self.cache_prefix = f"citydesk-cluster-{secrets.token_hex(4)}"
        self.proxy_port = self.proxy_port or free_port()

    # -- set-up ------------------------------------------------------------------------
    def prepare(self) -> None:
        for folder in ("logs", "static", "media", "nginx", "metrics"):
            (STATE / folder).mkdir(parents=True, exist_ok=True)
        env = self.environment()
        for args in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
            subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)
        password = secrets.token_urlsafe(16)
        self.smoke_password = password
        code = (
            "from portal.models import User\n"
            f"user = User.objects.filter(email={SMOKE_EMAIL!r}).first()\n"
            f"user = user or User.objects.create_user(email={SMOKE_EMAIL!r})\n"
            f"user.set_password({password!r}); user.is_active = True; user.save()\n"
        )
        subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)

    def metrics_dir(self, name: str) -> str:
        folder = STATE / "metrics" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return str(folder)

    def build(self) -> None:
        for index in range(self.web_count):
            name = f"web{index + 1}"
            port = free_port()
            shape = {"GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "2", **self.web_env}
            env = self.environment(
                GUNICORN_BIND=f"127.0.0.1:{port}", PROMETHEUS_MULTIPROC_DIR=self.metrics_dir(name), **shape
            )
            argv = [PYTHON, "-m", "gunicorn", "portal.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
            self.nodes.append(Node(name, argv, env, port))
        for index in range(self.worker_count):
            name = f"worker{index + 1}"
            port = free_port()
            env = self.environment(WORKER_METRICS_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=self.metrics_dir(name))
            argv = [PYTHON, "-m", "celery", "-A", "portal", "worker", "--concurrency", "2", "-n", f"{name}@%h"]
            self.nodes.append(Node(name, argv, env, port))
        if self.beat:
            beat = [PYTHON, "-m", "celery", "-A", "portal", "beat", "--scheduler"]
            beat += ["django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="]
            self.nodes.append(Node("beat", beat, self.environment()))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SystemExit("nginx is missing: apt-get install nginx-light")
        conf = STATE / "nginx" / "nginx.conf"
        conf.write_text(self.nginx_conf())
        self.nodes.append(
            Node("nginx", [nginx, "-p", str(STATE / "nginx"), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"], {})
        )

    def nginx_conf(self) -> str:
        prefix = STATE / "nginx"
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / temp).mkdir(exist_ok=True)
            (prefix / temp).chmod(0o777)  # nginx's workers run as nobody when it is started by root
        servers = "\n".join(f"    server 127.0.0.1:{node.port} max_fails=0;" for node in self.web_nodes())
        return f"""
worker_processes 1;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log {STATE}/logs/nginx-access.log;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  client_max_body_size 12m;
  # Keep a sane incoming X-Request-ID (the app validates it), or make one.
  map $http_x_request_id $citydesk_request_id {{
    default $http_x_request_id;
    ""      $request_id;
  }}
  upstream citydesk {{
{servers}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{self.proxy_port};
    location / {{
      proxy_pass http://citydesk;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $citydesk_request_id;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""

    def web_nodes(self) -> list[Node]:
        return [node for node in self.nodes if node.name.startswith("web")]

    def worker_nodes(self) -> list[Node]:
        return [node for node in self.nodes if node.name.startswith("worker")]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + 90
        pending = [*(n.port for n in self.web_nodes()), self.proxy_port]
        while pending and time.monotonic() < deadline:
            for port in list(pending):
                try:
                    if request(port, "GET", "/healthz").status == 200:
                        pending.remove(port)
                except OSError:
                    pass
            dead = [node.name for node in self.nodes if not node.alive()]
            if dead:
                raise RuntimeError(f"stopped while starting: {dead} (logs in {STATE / 'logs'})")
            time.sleep(0.5)
        if pending:
            raise RuntimeError(f"ports not answering /healthz: {pending}")
        for node in self.worker_nodes():  # the exporters answer once the workers are up
            while time.monotonic() < deadline and not self.worker_metrics(node):
                time.sleep(0.5)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop(signal.SIGQUIT if node.name == "nginx" else signal.SIGTERM)

    # -- reading metrics ---------------------------------------------------------------
    def worker_metrics(self, node: Node) -> str:
        try:
            answer = request(node.port, "GET", "/metrics", headers={"Authorization": f"Bearer {self.token}"})
        except OSError:
            return ""
        return answer.body.decode() if answer.status == 200 else ""

    def task_count(self, task: str, state: str = "succeeded") -> dict[str, float]:
        labels = f'state="{re.escape(state)}",task="{re.escape(task)}"'
        pattern = re.compile(r"^citydesk_celery_tasks_total\{" + labels + r"\} (\S+)$", re.M)
        counts = {}
        for node in self.worker_nodes():
            match = pattern.search(self.worker_metrics(node))
            counts[node.name] = float(match.group(1)) if match else 0.0
        return counts


# --- the smoke checks -----------------------------------------------------------------------


def check_session_across_nodes(cluster: Cluster) -> str:
    a, b = (node.port for node in cluster.web_nodes()[:2])
    page = request(a, "GET", "/accounts/login/")
    cookies = page.cookies()
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert found, "the login page has no CSRF token"
    token = found.group(1).decode()
    form = urlencode({"login": SMOKE_EMAIL, "password": cluster.smoke_password, "csrfmiddlewaretoken": token})
    signed_in = request(
        a,
        "POST",
        "/accounts/login/",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(cookies)},
        body=form.encode(),
    )
    cookies.update(signed_in.cookies())
    assert signed_in.status == 302 and "sessionid" in cookies, f"sign-in on node A answered {signed_in.status}"
    me = request(b, "GET", "/api/v1/me/", headers={"Cookie": cookie_header(cookies)})
    assert me.status == 200, f"node B answered {me.status} to the session of node A"
    assert json.loads(me.body)["email"] == SMOKE_EMAIL
    return f"signed in on :{a}, /api/v1/me/ on :{b} → 200 {SMOKE_EMAIL}"


def check_shared_rate_limit(cluster: Cluster) -> str:
    ports = [node.port for node in cluster.web_nodes()]
    client = f"203.0.113.{secrets.randbelow(250) + 1}"
    statuses = [
        request(ports[i % len(ports)], "GET", "/api/v1/cities/", headers={"X-Forwarded-For": client}).status
        for i in range(cluster.anon_rate + 10)
    ]
    ok, refused = statuses.count(200), statuses.count(429)
    assert ok == cluster.anon_rate and refused == 10, f"{ok} answered, {refused} refused (limit {cluster.anon_rate})"
    return f"{ok} × 200 then {refused} × 429 across {len(ports)} nodes (limit {cluster.anon_rate}/min)"


def enqueue_pings(cluster: Cluster, count: int, token: str) -> None:
    code = f"from portal.tasks import ping\nfor n in range({count}): ping.delay('{token}')\n"
    subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=cluster.environment(), check=True)


def check_tasks_run_once(cluster: Cluster, count: int = 20) -> str:
    before = cluster.task_count("portal.tasks.ping")
    enqueue_pings(cluster, count, "smoke")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = cluster.task_count("portal.tasks.ping")
        done = {name: after[name] - before.get(name, 0) for name in after}
        if sum(done.values()) >= count:
            break
        time.sleep(0.5)
    time.sleep(1)  # a duplicate would show up now
    after = cluster.task_count("portal.tasks.ping")
    done = {name: int(after[name] - before.get(name, 0)) for name in after}
    assert sum(done.values()) == count, f"{count} pings sent, {done} ran"
    return f"{count} pings ran once each: " + ", ".join(f"{name} {n}" for name, n in done.items())


def check_beat_runs_once(cluster: Cluster) -> str:
    task = "mailings.tasks.dispatch_due_mailings"
    deadline = time.monotonic() + 75
    sent = 0
    while time.monotonic() < deadline and not sent:
        sent = cluster.node("beat").log_file.read_text(errors="replace").count(f"({task})")
        time.sleep(1)
    assert sent, "beat sent no dispatch_due_mailings in 75 s"
    while time.monotonic() < deadline:
        ran = sum(cluster.task_count(task).values()) + sum(cluster.task_count(task, "failed").values())
        sent = cluster.node("beat").log_file.read_text(errors="replace").count(f"({task})")
        if ran >= sent:
            break
        time.sleep(1)
    assert ran == sent, f"beat sent {task} {sent} times, workers ran it {ran} times"
    return f"one beat sent {task} {sent}×, the {len(cluster.worker_nodes())} workers ran it {int(ran)}×"


def check_graceful_restart(cluster: Cluster) -> str:
    statuses: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            try:
                statuses.append(request(cluster.proxy_port, "GET", "/healthz").status)
            except OSError as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    for node in cluster.web_nodes():
        os.kill(node.started.pid, signal.SIGHUP)  # the gunicorn master: new workers, the old ones finish
        time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join()
    bad = [status for status in statuses if status != 200]
    assert not bad and not errors, f"{len(bad)} non-200 answers ({sorted(set(bad))}), errors: {errors[:3]}"
    return f"{len(statuses)} requests through nginx while each master got SIGHUP: all 200"


def check_request_ids(cluster: Cluster) -> str:
    # /favicon.ico: an ordinary page, so it has an access line (probes like /healthz are logged at DEBUG)
    made = request(cluster.proxy_port, "GET", "/favicon.ico").header("X-Request-ID")
    kept = request(cluster.proxy_port, "GET", "/favicon.ico", headers={"X-Request-ID": "smoke-edge-1"}).header(
        "X-Request-ID"
    )
    assert re.fullmatch(r"[0-9a-f]{32}", made), made  # nginx's $request_id
    assert kept == "smoke-edge-1", kept
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        logs = "".join(node.log_file.read_text(errors="replace") for node in cluster.web_nodes())
        if f'"request_id": "{made}"' in logs:
            break
        time.sleep(0.2)
    assert f'"request_id": "{made}"' in logs, "the id is not in the web nodes' access lines"
    return f"nginx made {made}, the node logged it; an incoming id was kept"


CHECKS = [
    ("session made on node A works on node B", check_session_across_nodes),
    ("rate limit shared by the nodes", check_shared_rate_limit),
    ("tasks run once across workers", check_tasks_run_once),
    ("beat runs once", check_beat_runs_once),
    ("request ids through the proxy", check_request_ids),
    ("graceful restart (HUP) loses no request", check_graceful_restart),
]


def smoke(cluster: Cluster) -> int:
    failures = 0
    rows = []
    for title, check in CHECKS:
        started = time.monotonic()
        try:
            detail, ok = check(cluster), True
        except AssertionError as exc:
            detail, ok = str(exc), False
        failures += 0 if ok else 1
        rows.append((title, "ok" if ok else "FAILED", f"{time.monotonic() - started:.1f}s", detail))
    width = max(len(row[0]) for row in rows)
    for title, verdict, seconds, detail in rows:
        print(f"{title:<{width}}  {verdict:<6} {seconds:>6}  {detail}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "smoke"])
    parser.add_argument("--web", type=int, default=2, help="web nodes (gunicorn masters)")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers")
    parser.add_argument("--port", type=int, default=0, help="nginx's port (default: a free one)")
    parser.add_argument("--anon-rate", type=int, default=30, help="anonymous API requests per minute")
    args = parser.parse_args()
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url.startswith("redis"):
        print("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the nodes share them.", file=sys.stderr)
        return 2
    if args.command == "smoke" and (args.web < 2 or args.workers < 2):
        print("smoke needs at least two web nodes and two workers", file=sys.stderr)
        return 2
    cluster = Cluster(database_url, redis_url, args.web, args.workers, args.port, args.anon_rate)
    cluster.prepare()
    cluster.build()
    try:
        cluster.start()
        print(f"nginx http://127.0.0.1:{cluster.proxy_port}/  ", end="")
        print(", ".join(f"{n.name} :{n.port}" for n in cluster.nodes if n.port), f"  logs {STATE / 'logs'}")
        print(f"METRICS_TOKEN={cluster.token}", flush=True)
        if args.command == "smoke":
            return smoke(cluster)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        try:
            while all(node.alive() for node in cluster.nodes):
                time.sleep(1)
            print("a process stopped; see the logs", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
