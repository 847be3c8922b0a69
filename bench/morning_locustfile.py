"""Locust users for bench/morning.py (run by it: ``locust -f bench/morning_locustfile.py``).

Each arrival is one member of the list in ``MORNING_MEMBERS`` (JSON), taken once: a new
browser (no cookies) that opens the login page and its CSS/JS, logs in with the e-mail
address and password through allauth's form, opens the dashboard, the お知らせ list, downloads
their お知らせ PDF and opens one guide, with ``MORNING_THINK`` seconds (min,max) between
pages. A Locust user takes the next member every ``MORNING_PACING`` seconds (Locust's
``constant_pacing``), so ``users / pacing`` members arrive per second whatever the pages
take — until the server cannot keep up, when the flows themselves outlast the pacing.

``MORNING_MODE=bare``: each member's session (written by the morning run) opens the bare
view of their own person once, with no pause, over ``users`` connections: the floor.

Every request is checked (status, and what the page must contain); each one's time is
written to ``MORNING_RESULT`` (JSON) when the run stops. Talks to --host only (127.0.0.1).
"""

import json
import os
import random
import re
import time

import gevent
from gevent.queue import Empty, Queue
from locust import constant, constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

MODE = os.environ.get("MORNING_MODE", "morning")
PACING = float(os.environ.get("MORNING_PACING", "18"))
THINK = tuple(float(x) for x in os.environ.get("MORNING_THINK", "1,3").split(","))
SESSION_COOKIE = os.environ.get("MORNING_SESSION_COOKIE", "sessionid")
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
ASSETS = re.compile(rb'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="(/static/[^"]+)"')

with open(os.environ["MORNING_MEMBERS"], encoding="utf-8") as f:
    MEMBERS = json.load(f)
work: Queue = Queue()
for m in MEMBERS:
    work.put(m)
samples: list[tuple[str, float, float, bool]] = []  # (name, started at, ms, ok)
sessions: list[dict] = []
state = {"in_flight": 0, "flows_done": 0, "flows_failed": 0, "first": None, "last": None}
rng = random.Random(26)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, context, **kwargs):
    samples.append((name, time.time() - response_time / 1000, response_time, exception is None))


@events.test_start.add_listener
def _watch(environment, **kwargs):
    """Ends the run when every member has been taken and every flow has finished."""

    def watch():
        while True:
            gevent.sleep(0.5)
            if work.empty() and state["in_flight"] == 0 and state["first"] is not None:
                environment.runner.quit()
                return

    gevent.spawn(watch)


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["MORNING_RESULT"], "w", encoding="utf-8") as f:
        json.dump({"samples": samples, "sessions": sessions, **state}, f)


class Member(FastHttpUser):
    wait_time = constant_pacing(PACING) if MODE == "morning" else constant(0)
    # A member behind Caddy: their own address and https, as the proxy forwards them.
    network_timeout = 60.0
    connection_timeout = 60.0

    def _headers(self, member: dict, **more) -> dict:
        return {"X-Forwarded-For": member["ip"], "X-Forwarded-Proto": "https", **more}

    def _think(self):
        gevent.sleep(rng.uniform(*THINK))

    def _check(self, response, *, status: int, contains: bytes | None = None, starts: bytes | None = None):
        body = response.content or b""
        if response.status_code != status:
            response.failure(f"status {response.status_code}")
        elif contains is not None and contains not in body:
            response.failure(f"no {contains!r}")
        elif starts is not None and not body.startswith(starts):
            response.failure(f"does not start with {starts!r}")
        else:
            response.success()
            return True
        return False

    @task
    def arrive(self):
        try:
            member = work.get_nowait()
        except Empty:
            raise StopUser() from None
        state["in_flight"] += 1
        state["first"] = state["first"] or time.time()
        try:
            ok = self.morning(member) if MODE == "morning" else self.bare(member)
        finally:
            state["in_flight"] -= 1
            state["last"] = time.time()
        state["flows_done" if ok else "flows_failed"] += 1

    def morning(self, m: dict) -> bool:
        self.client.cookiejar.clear()  # a browser of its own
        origin = self.host.replace("http://", "https://")
        with self.client.get("/accounts/login/", headers=self._headers(m), name="login page",
                             catch_response=True) as r:
            if not self._check(r, status=200, contains=b"csrfmiddlewaretoken"):
                return False
            token = CSRF_FIELD.search(r.content).group(1).decode()
            assets = sorted(set(ASSETS.findall(r.content)))
        for asset in assets:  # a new browser fetches them once (whitenoise, immutable names)
            with self.client.get(asset.decode(), headers=self._headers(m), name="static file",
                                 catch_response=True) as r:
                self._check(r, status=200)
        self._think()
        with self.client.post(
            "/accounts/login/", data={"csrfmiddlewaretoken": token, "login": m["email"], "password": m["password"]},
            headers=self._headers(m, Origin=origin, Referer=f"{origin}/accounts/login/"),
            name="login (POST)", allow_redirects=False, catch_response=True,
        ) as r:
            if not self._check(r, status=302):
                return False
            if not r.headers.get("Location", "").endswith("/my/"):
                r.failure(f"login went to {r.headers.get('Location')}")
                return False
        cookie = next((c.value for c in self.client.cookiejar if c.name == SESSION_COOKIE), None)
        sessions.append({"cookie": f"{SESSION_COOKIE}={cookie}", "person": m["person"], "ip": m["ip"]})
        with self.client.get("/my/", headers=self._headers(m), name="dashboard", catch_response=True) as r:
            if not self._check(r, status=200, contains=b"person-card"):
                return False
        self._think()
        with self.client.get("/my/notices/", headers=self._headers(m), name="お知らせ list",
                             catch_response=True) as r:
            if not self._check(r, status=200, contains=f"/my/notices/{m['person']}/pdf/".encode()):
                return False
        self._think()
        with self.client.get(f"/my/notices/{m['person']}/pdf/", headers=self._headers(m), name="お知らせ PDF",
                             catch_response=True) as r:
            if not self._check(r, status=200, starts=b"%PDF"):
                return False
        self._think()
        with self.client.get(f"/my/guides/{m['guide']}/", headers=self._headers(m), name="guide",
                             catch_response=True) as r:
            return self._check(r, status=200)

    def bare(self, m: dict) -> bool:
        with self.client.get(f"/bench/bare/{m['person']}/", headers={**self._headers(m), "Cookie": m["cookie"]},
                             name="bare view", catch_response=True) as r:
            return self._check(r, status=200)
