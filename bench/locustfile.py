"""Locust users for bench/loadtest.py: staff of one municipality calling the registry API at a fixed rate.

Not meant to be run by hand: loadtest.py writes the plan (``LOADTEST_PLAN``, JSON)
with, per municipality, its API token, sampled residents and a request rate per
operation; one user class per (municipality, operation) is made from it, each
user sending ``PER_USER_RATE`` requests per second (``constant_throughput``).
A user waits for its answer before the next request, so when the server falls
behind the achieved rate drops below the plan (the report shows both).
"""

from __future__ import annotations

import json
import math
import os
import random
import uuid
from typing import Any

from locust import HttpUser, constant_throughput, task

PLAN: dict[str, Any] = json.loads(open(os.environ["LOADTEST_PLAN"], encoding="utf-8").read())  # noqa: SIM115
PER_USER_RATE = float(PLAN.get("per_user_rate", 1.0))


def _search(user: RegistryUser) -> None:
    r = random.choice(user.samples)  # noqa: S311
    kind = random.randrange(4)  # noqa: S311
    params = [
        {"kana": r["kana_prefix"]},
        {"name": r["name_prefix"]},
        {"birth_date": r["birth_date"]},
        {"address": r["address_prefix"]},
    ][kind]
    user.client.get(f"{user.base}/persons", params=params, name=f"{user.lg} search", headers=user.auth)


def _view(user: RegistryUser) -> None:
    r = random.choice(user.samples)  # noqa: S311
    kind = random.randrange(3)  # noqa: S311
    path = [f"/persons/{r['atena']}", f"/households/{r['household']}", f"/persons/{r['atena']}/history"][kind]
    user.client.get(f"{user.base}{path}", name=f"{user.lg} view", headers=user.auth)


def _change(user: RegistryUser) -> None:
    r = random.choice(user.samples)  # noqa: S311
    body = {
        "household_number": r["household"],
        "person": {
            "family_name": r["family_name"],
            "given_name": "負荷",
            "family_name_kana": r["family_kana"],
            "given_name_kana": "フカ",
            "birth_date": PLAN["birth_date"],
            "sex": "1",
            "relationship": "child",
        },
        "filed_on": PLAN["filed_on"],
    }
    headers = {**user.auth, "Idempotency-Key": str(uuid.uuid4())}
    user.client.post(f"{user.base}/changes/birth", json=body, name=f"{user.lg} change", headers=headers)


def _certificate(user: RegistryUser) -> None:
    r = random.choice(user.samples)  # noqa: S311
    body = {
        "kind": "individual",
        "atena_numbers": [r["atena"]],
        "channel": "counter",
        "requester": {"name": r["full_name"], "birth_date": r["birth_date"], "atena_number": r["atena"]},
        "purpose": "負荷試験",
    }
    user.client.post(f"{user.base}/certificates", json=body, name=f"{user.lg} certificate", headers=user.auth)


OPERATIONS = {"search": _search, "view": _view, "change": _change, "certificate": _certificate}


class RegistryUser(HttpUser):
    abstract = True
    wait_time = constant_throughput(PER_USER_RATE)
    lg = ""
    operation = ""
    token = ""
    samples: list[dict[str, Any]] = []

    def on_start(self) -> None:
        self.base = f"/api/v1/municipalities/{self.lg}"
        self.auth = {"Authorization": f"Bearer {self.token}"}

    @task
    def call(self) -> None:
        OPERATIONS[self.operation](self)


for tenant in PLAN["tenants"]:
    for op, rate in tenant["rates"].items():
        if rate <= 0:
            continue
        name = f"User_{tenant['lg_code']}_{op}"
        globals()[name] = type(
            name,
            (RegistryUser,),
            {
                "abstract": False,
                "lg": tenant["lg_code"],
                "operation": op,
                "token": tenant["token"],
                "samples": tenant["samples"],
                "fixed_count": max(1, math.ceil(rate / PER_USER_RATE)),
                # Fractional rates: the users of this class together send `rate` per second.
                "wait_time": constant_throughput(rate / max(1, math.ceil(rate / PER_USER_RATE))),
            },
        )
