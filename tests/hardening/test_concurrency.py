"""Many users at once, several server processes on one store, and one user on many devices.

Every test drives real ``rls-coach serve`` processes (SQLite store) over HTTP and then reads the
store file directly. The oracle: each user's acknowledged requests replayed in process, in order,
must give exactly the record the server stored. So no turn is lost, no completion date dropped,
no record mixed up with another user's or half-written.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from skill.state import state_from_record
from tests.hardening.live import (
    START,
    HttpUser,
    UserPlan,
    expected_records,
    play_plan,
    routine_visit,
    run_threads,
    serving,
    stored_records,
)
from tests.hardening.scale import scaled

pytestmark = pytest.mark.slow


def assert_store_matches(path, acknowledged: dict[str, list[bytes]]) -> None:
    stored = stored_records(path)
    expected = expected_records(acknowledged)
    assert set(stored) == set(expected)
    for user, record in expected.items():
        assert stored[user] == record, user
        assert state_from_record(stored[user]).to_record() == stored[user]  # valid, complete


def test_many_users_at_once_on_one_server(tmp_path):
    path = tmp_path / "store.sqlite3"
    users = scaled(24, 200)
    acknowledged: dict[str, list[bytes]] = {}
    with serving(f"sqlite:///{path}", threads=8) as server:
        plans = [
            UserPlan(f"amzn1.ask.account.many-{n:04d}", (server.port,), day=n % 7)
            for n in range(users)
        ]

        def run(plan: UserPlan) -> None:
            user, bodies = play_plan(plan)
            acknowledged[user] = bodies

        failures = run_threads([lambda plan=plan: run(plan) for plan in plans])
        assert not failures, failures[:3]
        assert server.get("/healthz")[0] == 200
    assert_store_matches(path, acknowledged)


def test_several_servers_and_client_processes_share_one_store(tmp_path):
    """Three server processes on one SQLite file; each user's turns rotate across all three
    (as behind a load balancer); the users are driven from two client processes and from
    threads here at the same time."""
    path = tmp_path / "store.sqlite3"
    users = scaled(18, 150)
    acknowledged: dict[str, list[bytes]] = {}
    with (
        serving(f"sqlite:///{path}", threads=4) as first,
        serving(f"sqlite:///{path}", threads=4) as second,
        serving(f"sqlite:///{path}", threads=4) as third,
    ):
        ports = (first.port, second.port, third.port)
        plans = [
            UserPlan(f"amzn1.ask.account.shared-{n:04d}", ports[n % 3 :] + ports[: n % 3], n % 5)
            for n in range(users)
        ]
        in_processes, in_threads = plans[: users // 2], plans[users // 2 :]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            remote = pool.map(play_plan, in_processes)

            def run(plan: UserPlan) -> None:
                user, bodies = play_plan(plan)
                acknowledged[user] = bodies

            failures = run_threads([lambda plan=plan: run(plan) for plan in in_threads])
            acknowledged.update(dict(remote))
        assert not failures, failures[:3]
        for server in (first, second, third):
            assert server.running, server.log()
    assert_store_matches(path, acknowledged)


def test_one_user_on_many_devices_at_once_keeps_a_valid_record(tmp_path):
    """The same account talking on several devices at the same moment. Their turns race for one
    record: a turn whose save would replace progress it never read (another device saved since
    it read) is refused with an apology, every other turn is answered as usual, and the record
    stays whole, readable and one that some acknowledged turn saved."""
    path = tmp_path / "store.sqlite3"
    devices = scaled(6, 16)
    rounds = scaled(3, 20)
    user_id = "amzn1.ask.account.busy-household"
    with serving(f"sqlite:///{path}", threads=8) as server:
        for number in range(rounds):
            users = [
                HttpUser(
                    server.port,
                    user_id,
                    START + dt.timedelta(days=number),
                    device_id=f"amzn1.ask.device.{device}",
                    allow_apology=True,
                )
                for device in range(devices)
            ]

            def visit(user: HttpUser) -> None:
                try:
                    routine_visit(user, nexts=3)
                finally:
                    user.close()

            failures = run_threads([lambda user=user: visit(user) for user in users])
            assert not failures, failures[:3]
        assert server.get("/healthz")[0] == 200
    record = stored_records(path)[user_id]
    assert state_from_record(record).to_record() == record
